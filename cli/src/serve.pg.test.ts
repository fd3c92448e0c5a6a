import { Invocation, listOf, Run, Step, Timeline } from '@agentrace/schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportSpans, otlpExporter, recordAgentRun, recordingTracer } from './testing/otel-client.ts';
import { startTestServer, type TestServer } from './testing/test-server.ts';

const RunList = listOf(Run);
const StepList = listOf(Step);
const InvocationList = listOf(Invocation);

// gpt-4o: 100 in, 20 out at $2.50/$10 per 1M; gpt-4o-mini: 50 in, 10 out at $0.15/$0.60 per 1M.
const EXPECTED_COST = (100 * 2.5 + 20 * 10 + 50 * 0.15 + 10 * 0.6) / 1e6;

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s?.close();
});

async function runOfTrace(traceId: string) {
  const res = await s.api(`/v1/runs?trace_id=${traceId}`);
  expect(res.status).toBe(200);
  const page = RunList.parse(res.body);
  expect(page.data).toHaveLength(1);
  return page.data[0]!;
}

describe.each(['proto', 'json'] as const)('an agent run exported by the real OTel SDK over http/%s', (protocol) => {
  let spans: ReturnType<typeof recordAgentRun>;
  let run: Run;

  beforeAll(async () => {
    spans = recordAgentRun(recordingTracer(), `session-${protocol}`);
    expect(await exportSpans(otlpExporter(protocol, s.otlpUrl, s.ingestKey), spans)).toBe(0);
    run = await runOfTrace(spans[0]!.spanContext().traceId);
  });

  it('becomes one finished run with the aggregates of its steps', () => {
    expect(run).toMatchObject({
      name: 'invoke_agent planner',
      status: 'succeeded',
      trace_id: spans[0]!.spanContext().traceId,
      session_id: `session-${protocol}`,
      agent_name: 'planner',
      tags: { env: 'test' },
      model_names: ['gpt-4o-2024-08-06', 'gpt-4o-mini'],
      step_count: 5,
      tool_count: 2,
      error_count: 1,
      input_tokens: 150,
      output_tokens: 30,
    });
    expect(run.cost_usd).toBeCloseTo(EXPECTED_COST, 12);
    expect(run.finished_at).not.toBeNull();
    expect(run.duration_ms).toBeGreaterThanOrEqual(0);
  });

  it('lists its steps in seq order with types, models, tokens and the failure from the exception event', async () => {
    const res = await s.api(`/v1/runs/${run.run_id}/steps`);
    const steps = StepList.parse(res.body).data;
    expect(steps.map((x) => x.seq)).toEqual([1, 2, 3, 4, 5]);
    const byName = Object.fromEntries(steps.map((x) => [x.name, x]));
    expect(byName['chat gpt-4o']).toMatchObject({
      type: 'llm',
      model: 'gpt-4o-2024-08-06',
      request_model: 'gpt-4o',
      provider: 'openai',
      input_tokens: 100,
      output_tokens: 20,
      status: 'unset',
      error: null,
    });
    expect(byName['execute_tool search']).toMatchObject({ type: 'tool', tool_name: 'search', payload: { input: { arguments: { q: 'otel' } } } });
    const failed = byName['execute_tool fetch']!;
    expect(failed).toMatchObject({ type: 'tool', status: 'error', error: { type: 'TypeError', message: 'fetch failed: connection refused' } });
    expect(failed.error?.stack).toContain('TypeError');
    const root = byName['invoke_agent planner']!;
    expect(root.parent_step_id).toBeNull();
    for (const step of steps.filter((x) => x !== root)) expect(step.parent_step_id).toBe(root.step_id);
    expect(failed.payload_hash).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('renders a timeline tree with depths, offsets and children', async () => {
    const timeline = Timeline.parse((await s.api(`/v1/runs/${run.run_id}/timeline`)).body);
    const root = timeline.steps.find((x) => x.parent_step_id === null)!;
    expect(timeline.steps[0]!.step_id).toBe(root.step_id);
    expect(root.depth).toBe(0);
    expect(root.children).toHaveLength(4);
    expect(timeline.steps.filter((x) => x.depth === 1)).toHaveLength(4);
    for (const step of timeline.steps) expect(step.offset_ms).toBeGreaterThanOrEqual(0);
  });

  it('records one invocation per call, filterable by kind and success', async () => {
    const all = InvocationList.parse((await s.api(`/v1/invocations?run_id=${run.run_id}`)).body).data;
    expect(all.map((i) => i.kind).sort()).toEqual(['agent', 'model', 'model', 'tool', 'tool']);
    const failedTools = InvocationList.parse((await s.api(`/v1/invocations?run_id=${run.run_id}&kind=tool&success=false`)).body).data;
    expect(failedTools).toEqual([
      expect.objectContaining({ target: 'fetch', success: false, error_type: 'TypeError', invoker: null }),
    ]);
    const model = all.find((i) => i.target === 'gpt-4o-2024-08-06')!;
    expect(model).toMatchObject({ provider: 'openai', input_tokens: 100, output_tokens: 20 });
    expect(model.estimated_cost_usd).toBeCloseTo((100 * 2.5 + 20 * 10) / 1e6, 12);
  });

  it('stores nothing twice when the same spans are exported again', async () => {
    expect(await exportSpans(otlpExporter(protocol === 'proto' ? 'json' : 'proto', s.otlpUrl, s.ingestKey), spans)).toBe(0);
    const again = await runOfTrace(spans[0]!.spanContext().traceId);
    expect(again).toEqual(run);
    const steps = StepList.parse((await s.api(`/v1/runs/${run.run_id}/steps`)).body).data;
    expect(steps.map((x) => x.seq)).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('a run whose spans arrive over several requests, children first', () => {
  it('is running until its root arrives, then finished, with gap-free seq in arrival order', async () => {
    const spans = recordAgentRun(recordingTracer(), 'split');
    const root = spans.find((x) => !x.parentSpanContext)!;
    const children = spans.filter((x) => x !== root);
    const exporter = otlpExporter('proto', s.otlpUrl, s.ingestKey);
    expect(await exportSpans(exporter, children.slice(2))).toBe(0);
    expect(await exportSpans(exporter, children.slice(0, 2))).toBe(0);
    const traceId = root.spanContext().traceId;
    const running = await runOfTrace(traceId);
    expect(running).toMatchObject({ status: 'running', finished_at: null, duration_ms: null, step_count: 4, input_tokens: 150 });

    expect(await exportSpans(exporter, [root])).toBe(0);
    const finished = await runOfTrace(traceId);
    expect(finished).toMatchObject({ run_id: running.run_id, status: 'succeeded', name: 'invoke_agent planner', step_count: 5 });
    expect(Date.parse(finished.started_at)).toBeLessThanOrEqual(Date.parse(running.started_at));

    const steps = StepList.parse((await s.api(`/v1/runs/${finished.run_id}/steps`)).body).data;
    expect(steps.map((x) => [x.seq, x.name])).toEqual([
      [1, children[2]!.name],
      [2, children[3]!.name],
      [3, children[0]!.name],
      [4, children[1]!.name],
      [5, root.name],
    ]);
    // Children stored before their parent still resolve it once it arrives.
    for (const step of steps.slice(0, 4)) expect(step.parent_step_id).toBe(steps[4]!.step_id);
  });
});
