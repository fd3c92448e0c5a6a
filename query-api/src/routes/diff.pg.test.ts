import { randomBytes, randomUUID } from 'node:crypto';
import { ErrorEnvelope, RunDiff } from '@agentrace/schemas';
import { type StepRecord, writeSteps } from '@agentrace/store';
import { stepRecord } from '@agentrace/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type QueryTestApp, startQueryTestApp } from '../testing/query-test-app.ts';

let app: QueryTestApp;
beforeAll(async () => {
  app = await startQueryTestApp();
});
afterAll(() => app?.close());

/**
 * A research run as OTel exporters deliver it (children first): a planner that calls a model, a search
 * tool and a researcher sub-agent that fetches pages. `answer` is the model's output text; `fetches` how
 * many pages the researcher fetched; times start at `at` so that two runs never share a timestamp.
 */
async function researchRun(
  tenant: { tenantId: string; projectId: string },
  at: string,
  answer: string,
  fetches: number,
) {
  const runId = randomUUID();
  const ids = { ...tenant, runId, traceId: randomBytes(16) };
  const t = (s: number) => `${at}:${String(s).padStart(2, '0')}.000000Z`;
  const payload = (output: unknown) =>
    JSON.stringify({
      input: { q: 'otel' },
      output,
      attributes: { 'gen_ai.response.id': randomUUID() },
      events: [],
    });
  const root = stepRecord({
    ...ids,
    ts: t(0),
    type: 'agent',
    name: 'invoke_agent planner',
    status: 'ok',
    run: { isRoot: true },
  });
  const chat = stepRecord({
    ...ids,
    ts: t(1),
    parentSpanId: root.spanId,
    type: 'llm',
    name: 'chat gpt-4o',
    payloadJson: payload({ text: answer }),
    invocation: {
      kind: 'model',
      target: 'gpt-4o',
      model: 'gpt-4o',
      inputTokens: 100,
      outputTokens: 10,
      costUsd: 0.001,
    },
  });
  const researcher = stepRecord({
    ...ids,
    ts: t(2),
    parentSpanId: root.spanId,
    type: 'agent',
    name: 'invoke_agent researcher',
  });
  const pages: StepRecord[] = Array.from({ length: fetches }, (_, i) =>
    stepRecord({
      ...ids,
      ts: t(3 + i),
      parentSpanId: researcher.spanId,
      type: 'tool',
      name: 'execute_tool fetch',
      invocation: {},
    }),
  );
  const search = stepRecord({
    ...ids,
    ts: t(10),
    parentSpanId: root.spanId,
    type: 'tool',
    name: 'execute_tool search',
    invocation: {},
  });
  await writeSteps(app.db.pool, [chat, ...pages, researcher, search, root]);
  return runId;
}

describe('GET /v1/diff', () => {
  let runA: string;
  let runB: string;
  let foreign: string;
  beforeAll(async () => {
    runA = await researchRun(app.tenant, '2026-03-01T10:00', 'Paris', 1);
    runB = await researchRun(app.tenant, '2026-03-02T11:00', 'Lyon', 2);
    foreign = await researchRun(app.other, '2026-03-01T10:00', 'Paris', 1);
  });

  it('aligns the steps of two stored runs tree by tree and reports what changed', async () => {
    const res = await app.get(`/v1/diff?runA=${runA}&runB=${runB}`);
    expect(res.status).toBe(200);
    const diff = RunDiff.parse(res.body);
    expect(diff.steps.map((s) => `${s.op} ${(s.a ?? s.b)!.name}`)).toEqual([
      'equal invoke_agent planner',
      'changed chat gpt-4o',
      'equal invoke_agent researcher',
      'equal execute_tool fetch',
      'added execute_tool fetch',
      'equal execute_tool search',
    ]);
    expect(diff.steps[1]!.changes).toEqual([{ path: '$.payload.output.text', a: 'Paris', b: 'Lyon' }]);
    expect(diff.steps[4]!.b!.run_id).toBe(runB);
    expect(diff.summary.step_count).toEqual({ a: 5, b: 6, delta: 1 });
    expect(diff.summary.tool_count).toEqual({ a: 2, b: 3, delta: 1 });
  });

  it.each([
    ['default', 1],
    ['strict', 5],
    ['structure', 0],
  ])('with normalize_profile=%s reports %i changed steps', async (profile, changed) => {
    const res = await app.get(`/v1/diff?runA=${runA}&runB=${runB}&normalize_profile=${profile}`);
    expect(RunDiff.parse(res.body).steps.filter((s) => s.op === 'changed')).toHaveLength(changed);
  });

  it('diffs a run with itself as all equal', async () => {
    const diff = RunDiff.parse(
      (await app.get(`/v1/diff?runA=${runA}&runB=${runA}&normalize_profile=strict`)).body,
    );
    expect(new Set(diff.steps.map((s) => s.op))).toEqual(new Set(['equal']));
  });

  it.each([
    ['another tenant’s run', 404, 'not_found', () => `runA=${runA}&runB=${foreign}`],
    ['a run that does not exist', 404, 'not_found', () => `runA=${randomUUID()}&runB=${runB}`],
    ['a malformed id', 400, 'invalid_argument', () => `runA=nope&runB=${runB}`],
    ['a missing run', 400, 'invalid_argument', () => `runA=${runA}`],
    [
      'an unknown profile',
      400,
      'invalid_argument',
      () => `runA=${runA}&runB=${runB}&normalize_profile=loose`,
    ],
    ['an unknown parameter', 400, 'invalid_argument', () => `runA=${runA}&runB=${runB}&limit=3`],
  ])('answers %s with %i %s', async (_, status, code, query) => {
    const res = await app.get(`/v1/diff?${query()}`);
    expect(res.status).toBe(status);
    expect(ErrorEnvelope.parse(res.body).error.code).toBe(code);
  });
});
