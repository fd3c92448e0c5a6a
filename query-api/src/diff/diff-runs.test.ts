import { createHash, randomUUID } from 'node:crypto';
import type { Run, Step } from '@agentrace/schemas';
import { describe, expect, it } from 'vitest';
import { diffRuns, type RunWithSteps } from './diff-runs.ts';

/** A step spec: type, name, optional payload and status, and its children. */
interface Spec {
  type: Step['type'];
  name: string;
  output?: unknown;
  status?: Step['status'];
  durationMs?: number;
  children?: Spec[];
}

/**
 * A run built from a step tree the way ingest stores it: fresh ids, seq in arrival order (children first,
 * as OTel exporters send them), one millisecond between starts, and ids and times inside the payload.
 */
function runOf(root: Spec, startMs: number, run: Partial<Run> = {}): RunWithSteps {
  const runId = randomUUID();
  const steps: Step[] = [];
  let clock = startMs;
  const visit = (spec: Spec, parent: string | null) => {
    const stepId = randomUUID();
    const ts = new Date(clock++).toISOString();
    const pending = spec.children ?? [];
    for (const child of pending) visit(child, stepId);
    const payload = {
      input: { q: spec.name },
      output: spec.output ?? { text: 'ok' },
      attributes: { 'gen_ai.tool.call.id': randomUUID() },
      events: [{ name: 'log', ts, attributes: {} }],
    };
    steps.push({
      step_id: stepId,
      run_id: runId,
      seq: steps.length + 1,
      parent_step_id: parent,
      ts,
      end_ts: new Date(clock).toISOString(),
      duration_ms: spec.durationMs ?? 1,
      type: spec.type,
      name: spec.name,
      status: spec.status ?? 'ok',
      schema_version: 1,
      error: spec.status === 'error' ? { type: 'timeout', message: 'timed out', stack: null } : null,
      model: null,
      request_model: null,
      provider: null,
      tool_name: null,
      agent_name: null,
      input_tokens: null,
      output_tokens: null,
      cost_usd: null,
      payload,
      payload_hash: `sha256:${createHash('sha256').update(JSON.stringify(payload)).digest('hex')}`,
      redaction_meta: { paths: [], rules: [] },
      trace_id: null,
      span_id: null,
      decision_token_id: null,
      governance_violation: null,
    });
  };
  visit(root, null);
  return {
    run: {
      run_id: runId,
      project_id: randomUUID(),
      name: root.name,
      status: 'succeeded',
      started_at: new Date(startMs).toISOString(),
      finished_at: null,
      duration_ms: 1000,
      trace_id: null,
      parent_run_id: null,
      session_id: null,
      user_id: null,
      agent_name: null,
      tags: {},
      model_names: [],
      step_count: steps.length,
      tool_count: steps.filter((s) => s.type === 'tool').length,
      error_count: steps.filter((s) => s.status === 'error').length,
      input_tokens: 100,
      output_tokens: 10,
      cost_usd: 0.01,
      governance_violations: 0,
      ...run,
    },
    steps,
  };
}

const tool = (name: string, extra: Partial<Spec> = {}): Spec => ({ type: 'tool', name, ...extra });
const llm = (text: string): Spec => ({ type: 'llm', name: 'chat gpt-4o', output: { text } });
const agent = (name: string, children: Spec[]): Spec => ({ type: 'agent', name, children });

/** The diff as `op type name [parent's name]` lines, which read like the run. */
function outline(a: RunWithSteps, b: RunWithSteps, profile: 'default' | 'strict' | 'structure' = 'default') {
  const nameOf = (steps: readonly Step[], id: string | null) =>
    steps.find((s) => s.step_id === id)?.name ?? '-';
  return diffRuns(a, b, profile).steps.map((d) => {
    const step = (d.a ?? d.b)!;
    const parent = d.a ? nameOf(a.steps, d.a.parent_step_id) : nameOf(b.steps, d.b!.parent_step_id);
    return `${d.op} ${step.name} < ${parent}`;
  });
}

describe('diffRuns', () => {
  it('aligns sub-agents with each other, not across them', () => {
    const a = runOf(
      agent('planner', [agent('researcher', [tool('search')]), agent('writer', [tool('search')])]),
      0,
    );
    const b = runOf(
      agent('planner', [agent('researcher', []), agent('writer', [tool('search'), tool('search')])]),
      5000,
    );
    expect(outline(a, b)).toEqual([
      'equal planner < -',
      'equal researcher < planner',
      'removed search < researcher',
      'equal writer < planner',
      'equal search < writer',
      'added search < writer',
    ]);
  });

  it('reports the JSONPath of a changed output, and ignores ids and timestamps by default', () => {
    const a = runOf(agent('planner', [llm('Paris'), tool('search')]), 0);
    const b = runOf(agent('planner', [llm('Lyon'), tool('search')]), 60_000);
    const diff = diffRuns(a, b, 'default');
    expect(diff.steps.map((s) => s.op)).toEqual(['equal', 'changed', 'equal']);
    expect(diff.steps[1]!.changes).toEqual([{ path: '$.payload.output.text', a: 'Paris', b: 'Lyon' }]);
  });

  it.each([
    ['default', ['$.status', '$.error']],
    ['strict', ['$.ts', '$.duration_ms', '$.status', '$.error', '$.payload.events[0].ts']],
    ['structure', []],
  ] as const)('with the %s profile a failed retry differs at %j', (profile, paths) => {
    const a = runOf(agent('planner', [tool('fetch')]), 0);
    const b = runOf(agent('planner', [tool('fetch', { status: 'error', durationMs: 30_000 })]), 0);
    b.steps[0]!.ts = '1970-01-01T00:00:00.500Z'; // the retry started later
    b.steps[0]!.payload.events = [{ name: 'log', ts: b.steps[0]!.ts, attributes: {} }];
    const fetchDiff = diffRuns(a, b, profile).steps.find((s) => s.a?.name === 'fetch')!;
    expect(fetchDiff.op).toBe(paths.length > 0 ? 'changed' : 'equal');
    expect(fetchDiff.changes.map((c) => c.path)).toEqual(paths);
  });

  it('keeps every step of both runs once, in run order, when the runs share nothing', () => {
    const a = runOf(agent('planner', [tool('a1'), tool('a2')]), 0);
    const b = runOf(agent('coder', [tool('b1')]), 0);
    expect(outline(a, b)).toEqual([
      'removed planner < -',
      'removed a1 < planner',
      'removed a2 < planner',
      'added coder < -',
      'added b1 < coder',
    ]);
  });

  it('orders siblings by start time, not by arrival', () => {
    const a = runOf(agent('planner', [tool('first'), tool('second')]), 0);
    // Arrival (seq) order reversed; start times unchanged.
    const [first, second] = [a.steps[0]!, a.steps[1]!];
    a.steps = [{ ...second, seq: 1 }, { ...first, seq: 2 }, a.steps[2]!];
    expect(outline(a, a)).toEqual(['equal planner < -', 'equal first < planner', 'equal second < planner']);
  });

  it('treats steps whose parent is missing as top-level steps', () => {
    const a = runOf(agent('planner', [tool('search')]), 0);
    const orphaned = {
      ...a,
      steps: a.steps.map((s) => (s.name === 'search' ? { ...s, parent_step_id: randomUUID() } : s)),
    };
    expect(outline(a, orphaned, 'structure')).toEqual([
      'equal planner < -',
      'removed search < planner',
      'added search < -',
    ]);
  });

  it('summarizes deltas as b − a, null when either side is unknown', () => {
    const a = runOf(agent('planner', [tool('search')]), 0, {
      duration_ms: 1000,
      cost_usd: 0.5,
      input_tokens: 100,
    });
    const b = runOf(agent('planner', [tool('search'), tool('search', { status: 'error' })]), 0, {
      duration_ms: null,
      cost_usd: 0.75,
      input_tokens: 80,
    });
    expect(diffRuns(a, b, 'default').summary).toEqual({
      duration_ms: { a: 1000, b: null, delta: null },
      cost_usd: { a: 0.5, b: 0.75, delta: 0.25 },
      input_tokens: { a: 100, b: 80, delta: -20 },
      output_tokens: { a: 10, b: 10, delta: 0 },
      step_count: { a: 2, b: 3, delta: 1 },
      tool_count: { a: 1, b: 2, delta: 1 },
      error_count: { a: 0, b: 1, delta: 1 },
    });
  });
});
