import { randomBytes, randomUUID } from 'node:crypto';
import { CostRow, ErrorEnvelope, Run } from '@agentrace/schemas';
import { type StepRecord, writeSteps } from '@agentrace/store';
import { stepRecord } from '@agentrace/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type QueryTestApp, startQueryTestApp } from '../testing/query-test-app.ts';

let app: QueryTestApp;
const CostAnswer = z.object({ data: z.array(CostRow) }).strict();
const runIds: string[] = [];

/**
 * Two days of runs. Each run: `planner` calls gpt-4o ($0.01) through a router span that repeats the call's
 * usage and cost (which must not count twice); `coder` calls claude ($0.02, reported by the provider) and a
 * fine-tune we have no price for. One embedding call has no agent.
 */
async function seed(tenant: { tenantId: string; projectId: string }) {
  const records: StepRecord[] = [];
  for (const day of ['2026-06-01', '2026-06-02']) {
    const runId = randomUUID();
    if (tenant === app.tenant) runIds.push(runId);
    const ids = { ...tenant, runId, traceId: randomBytes(16) };
    const ts = `${day}T12:00:00.000000Z`;
    const model = (
      target: string,
      provider: string,
      invoker: string | null,
      costUsd: number | null,
      extra = {},
    ) => ({
      kind: 'model' as const,
      target,
      model: target,
      provider,
      invoker,
      inputTokens: 1000,
      outputTokens: 100,
      costUsd,
      costSource: costUsd === null ? null : ('estimated' as const),
      ...extra,
    });
    const router = stepRecord({
      ...ids,
      ts,
      type: 'llm',
      invocation: model('gpt-4o', 'openai', 'planner', 0.01),
    });
    records.push(
      router,
      stepRecord({
        ...ids,
        ts,
        type: 'llm',
        parentSpanId: router.spanId,
        invocation: model('gpt-4o', 'openai', 'planner', 0.01),
      }),
      stepRecord({
        ...ids,
        ts,
        type: 'llm',
        invocation: model('claude-sonnet-4-5', 'anthropic', 'coder', 0.02, { costSource: 'reported' }),
      }),
      stepRecord({ ...ids, ts, type: 'llm', invocation: model('my-finetune', 'self', 'coder', null) }),
      stepRecord({
        ...ids,
        ts,
        type: 'embedding',
        invocation: { ...model('text-embedding-3-small', 'openai', null, 0.00002), kind: 'embedding' },
      }),
      stepRecord({
        ...ids,
        ts,
        type: 'tool',
        invocation: { kind: 'tool', target: 'search', invoker: 'planner' },
      }),
    );
  }
  await writeSteps(app.db.pool, records);
}

beforeAll(async () => {
  app = await startQueryTestApp();
  await seed(app.tenant);
  await seed(app.other);
});
afterAll(() => app?.close());

async function cost(query: string) {
  const res = await app.get(`/v1/cost?${query}`);
  expect(res.status).toBe(200);
  return CostAnswer.parse(res.body).data;
}

describe('GET /v1/cost', () => {
  it('groups by model, costliest first, counting a call repeated by its parent span once', async () => {
    const rows = await cost('group_by=model');
    expect(rows.map((r) => [r.key, r.invocations, r.unpriced_invocations])).toEqual([
      ['claude-sonnet-4-5', 2, 0],
      ['gpt-4o', 2, 0],
      ['text-embedding-3-small', 2, 0],
      ['my-finetune', 2, 2],
    ]);
    expect(rows[1]!.cost_usd).toBeCloseTo(0.02, 12);
    expect(rows[1]).toMatchObject({ input_tokens: 2000, output_tokens: 200 });
    expect(rows[3]!.cost_usd).toBeNull();
  });

  it.each([
    [
      'agent',
      [
        ['coder', 4],
        ['planner', 2],
        [null, 2],
      ],
    ],
    [
      'provider',
      [
        ['anthropic', 2],
        ['openai', 4],
        ['self', 2],
      ],
    ],
    [
      'day',
      [
        ['2026-06-01', 4],
        ['2026-06-02', 4],
      ],
    ],
  ])('groups by %s', async (groupBy, expected) => {
    expect((await cost(`group_by=${groupBy}`)).map((r) => [r.key, r.invocations])).toEqual(expected);
  });

  it('groups by project', async () => {
    expect(await cost('group_by=project')).toMatchObject([{ key: app.tenant.projectId, invocations: 8 }]);
  });

  it('adds up to the runs’ own cost totals', async () => {
    const days = await cost('group_by=day');
    const runs = await Promise.all(
      runIds.map(async (id) => Run.parse((await app.get(`/v1/runs/${id}`)).body)),
    );
    expect(days.map((d) => d.cost_usd)).toEqual(runs.map((r) => expect.closeTo(r.cost_usd!, 12)));
  });

  it.each([
    ['since=2026-06-02T00:00:00Z', ['2026-06-02']],
    ['until=2026-06-02T00:00:00Z', ['2026-06-01']],
    ['since=2027-01-01T00:00:00Z', []],
  ])('restricts to calls started in the range: %s', async (range, days) => {
    expect((await cost(`group_by=day&${range}`)).map((r) => r.key)).toEqual(days);
  });

  it.each([
    ['no group_by', ''],
    ['an unknown group_by', 'group_by=tool'],
    ['an unknown parameter', 'group_by=day&model=gpt-4o'],
    ['a bad time', 'group_by=day&since=yesterday'],
  ])('answers %s with 400', async (_, query) => {
    const res = await app.get(`/v1/cost?${query}`);
    expect(res.status).toBe(400);
    expect(ErrorEnvelope.parse(res.body).error.code).toBe('invalid_argument');
  });
});
