import type { Step } from '@agentrace/schemas';

/** A run's steps as a forest of indexes into `steps`; siblings in run order (start time, then seq). */
export interface StepTree {
  steps: readonly Step[];
  roots: number[];
  children: number[][];
}

const byStart = (steps: readonly Step[]) => (x: number, y: number) =>
  steps[x]!.ts < steps[y]!.ts ? -1 : steps[x]!.ts > steps[y]!.ts ? 1 : steps[x]!.seq - steps[y]!.seq;

/**
 * The tree of a run's steps. A step whose parent is not in the run is a root; so is a step caught in a
 * parent cycle (which only corrupt data can make), so that every step is in the tree exactly once.
 */
export function stepTree(steps: readonly Step[]): StepTree {
  const indexOf = new Map<string, number>();
  for (let i = 0; i < steps.length; i++) indexOf.set(steps[i]!.step_id, i);
  const children: number[][] = steps.map(() => []);
  const parents = steps.map((step) => (step.parent_step_id ? (indexOf.get(step.parent_step_id) ?? -1) : -1));
  const roots: number[] = [];
  for (let i = 0; i < steps.length; i++) (parents[i] === -1 ? roots : children[parents[i]!]!).push(i);

  const reached = new Uint8Array(steps.length);
  const reach = (from: number[]) => {
    const stack = [...from];
    while (stack.length > 0) {
      const i = stack.pop()!;
      if (reached[i]) continue;
      reached[i] = 1;
      for (const child of children[i]!) stack.push(child);
    }
  };
  reach(roots);
  for (let i = 0; i < steps.length; i++) {
    if (reached[i]) continue;
    const siblings = children[parents[i]!]!;
    siblings.splice(siblings.indexOf(i), 1);
    roots.push(i);
    reach([i]);
  }

  const order = byStart(steps);
  roots.sort(order);
  for (const list of children) if (list.length > 1) list.sort(order);
  return { steps, roots, children };
}
