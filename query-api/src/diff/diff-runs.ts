import {
  DIFF_METRICS,
  type DiffStep,
  type MetricDelta,
  type NormalizeProfile,
  type Run,
  type RunDiff,
  type Step,
} from '@agentrace/schemas';
import { jsonChanges } from './json-changes.ts';
import { comparableStep } from './normalize-step.ts';
import { alignSequences } from './sequence-alignment.ts';
import { type StepTree, stepTree } from './step-tree.ts';

export interface RunWithSteps {
  run: Run;
  steps: readonly Step[];
}

/**
 * Diffs two runs: aligns their steps level by level of the step tree on (type, name), so that children
 * align only with the children of the step their parent aligned with (one sub-agent's steps with the
 * other's), then compares each aligned pair after `profile` drops what always differs. Steps come out in
 * run order (depth first, siblings by start), each pair with the JSONPaths where it differs. Pure.
 * @example diffRuns({ run: runA, steps: stepsA }, { run: runB, steps: stepsB }, 'default').summary.cost_usd
 */
export function diffRuns(a: RunWithSteps, b: RunWithSteps, profile: NormalizeProfile): RunDiff {
  return {
    summary: summaryOf(a.run, b.run),
    steps: alignedSteps(stepTree(a.steps), stepTree(b.steps), profile),
  };
}

function summaryOf(a: Run, b: Run): RunDiff['summary'] {
  const delta = (x: number | null, y: number | null): MetricDelta => ({
    a: x,
    b: y,
    delta: x === null || y === null ? null : y - x,
  });
  return Object.fromEntries(
    DIFF_METRICS.map((metric) => [metric, delta(a[metric], b[metric])]),
  ) as RunDiff['summary'];
}

function alignedSteps(ta: StepTree, tb: StepTree, profile: NormalizeProfile): DiffStep[] {
  const keys = new Map<string, number>();
  const keyOf = (step: Step) => {
    const text = `${step.type}\u0000${step.name}`;
    const known = keys.get(text);
    if (known !== undefined) return known;
    keys.set(text, keys.size);
    return keys.size - 1;
  };
  const keysA = Int32Array.from(ta.steps, keyOf);
  const keysB = Int32Array.from(tb.steps, keyOf);
  const align = (xs: number[], ys: number[]): (readonly [number, number])[] =>
    alignSequences(
      xs.map((i) => keysA[i]!),
      ys.map((j) => keysB[j]!),
    ).map(([x, y]) => [x === -1 ? -1 : xs[x]!, y === -1 ? -1 : ys[y]!]);

  const out: DiffStep[] = [];
  // Depth first with an explicit stack (trees can be deeper than the call stack); pushed in reverse.
  const stack = align(ta.roots, tb.roots).reverse();
  while (stack.length > 0) {
    const [i, j] = stack.pop()!;
    const sa = i === -1 ? null : ta.steps[i]!;
    const sb = j === -1 ? null : tb.steps[j]!;
    out.push(compared(sa, sb, profile));
    const next =
      i !== -1 && j !== -1
        ? align(ta.children[i]!, tb.children[j]!)
        : i !== -1
          ? ta.children[i]!.map((c) => [c, -1] as const)
          : tb.children[j]!.map((c) => [-1, c] as const);
    for (let k = next.length - 1; k >= 0; k--) stack.push(next[k]!);
  }
  return out;
}

function compared(a: Step | null, b: Step | null, profile: NormalizeProfile): DiffStep {
  if (!a) return { op: 'added', a: null, b, changes: [] };
  if (!b) return { op: 'removed', a, b: null, changes: [] };
  const samePayload = a.payload_hash === b.payload_hash;
  const x = comparableStep(a, profile, samePayload);
  const changes = jsonChanges(x.view, comparableStep(b, profile, samePayload).view, '$', x.skip);
  return { op: changes.length > 0 ? 'changed' : 'equal', a, b, changes };
}
