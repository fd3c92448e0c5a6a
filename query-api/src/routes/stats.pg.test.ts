import { randomBytes, randomUUID } from 'node:crypto';
import { ErrorEnvelope, InvocationStatsRow } from '@agentrace/schemas';
import { type StepRecord, writeSteps } from '@agentrace/store';
import { stepRecord } from '@agentrace/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type QueryTestApp, startQueryTestApp } from '../testing/query-test-app.ts';

let app: QueryTestApp;
const StatsAnswer = z.object({ data: z.array(InvocationStatsRow) }).strict();

/**
 * One support-agent run per ten minutes of a morning: `planner` searches (10, 20, ... 100 ms; the 4th and
 * 8th time out), `coder` fetches three times (one HTTP 500) and calls a contract artifact twice; each
 * search is preceded by a priced gpt-4o call, each fetch by an unpriced model call.
 */
async function seed(tenant: { tenantId: string; projectId: string }) {
  const records: StepRecord[] = [];
  for (let i = 0; i < 10; i++) {
    const ids = { ...tenant, runId: randomUUID(), traceId: randomBytes(16) };
    const ts = `2026-04-01T09:${String(i * 5).padStart(2, '0')}:00.000000Z`;
    records.push(
      stepRecord({
        ...ids,
        ts,
        type: 'llm',
        invocation: {
          kind: 'model',
          target: 'gpt-4o',
          model: 'gpt-4o',
          provider: 'openai',
          invoker: 'planner',
          taskType: 'coach',
          latencyMs: 500,
          inputTokens: 1000,
          outputTokens: 100,
          costUsd: 0.0035,
        },
      }),
      stepRecord({
        ...ids,
        ts,
        type: 'tool',
        status: i === 3 || i === 7 ? 'error' : 'ok',
        invocation: {
          kind: 'tool',
          target: 'search',
          toolName: 'search',
          invoker: 'planner',
          success: !(i === 3 || i === 7),
          errorType: i === 3 || i === 7 ? 'timeout' : null,
          latencyMs: (i + 1) * 10,
        },
      }),
    );
    if (i < 3) {
      records.push(
        stepRecord({
          ...ids,
          ts,
          type: 'llm',
          invocation: {
            kind: 'model',
            target: 'my-finetune',
            model: 'my-finetune',
            provider: 'self',
            invoker: 'coder',
            inputTokens: 7,
          },
        }),
        stepRecord({
          ...ids,
          ts,
          type: 'tool',
          invocation: {
            kind: 'tool',
            target: 'fetch',
            toolName: 'fetch',
            invoker: 'coder',
            success: i !== 1,
            errorType: i === 1 ? 'http_500' : null,
            latencyMs: 200,
          },
        }),
      );
    }
    if (i < 2) {
      records.push(
        stepRecord({
          ...ids,
          ts,
          type: 'tool',
          invocation: {
            kind: 'artifact',
            target: 'contract-7',
            toolName: 'call_contract',
            artifactId: 'contract-7',
            method: 'transfer',
            invoker: 'coder',
            success: i === 0,
            errorType: i === 0 ? null : 'reverted',
            latencyMs: 40 + i * 20,
          },
        }),
      );
    }
  }
  await writeSteps(app.db.pool, records);
}

beforeAll(async () => {
  app = await startQueryTestApp();
  await seed(app.tenant);
  await seed(app.other);
});
afterAll(() => app?.close());

async function stats(query: string) {
  const res = await app.get(`/v1/invocations/stats?${query}`);
  expect(res.status).toBe(200);
  return StatsAnswer.parse(res.body).data;
}

describe('GET /v1/invocations/stats', () => {
  it('computes counts, success rate, latency percentiles, failure types, tokens and cost per tool', async () => {
    const [search, fetchRow, contract] = await stats('group_by=tool');
    expect(search).toEqual({
      key: 'search',
      total_invocations: 10,
      successful: 8,
      failed: 2,
      success_rate: 0.8,
      avg_duration_ms: 55,
      p50_ms: 55,
      p95_ms: expect.closeTo(95.5, 9),
      p99_ms: expect.closeTo(99.1, 9),
      failure_types: { timeout: 2 },
      input_tokens: 0,
      output_tokens: 0,
      cost_usd: null,
    });
    expect(fetchRow).toMatchObject({
      key: 'fetch',
      total_invocations: 3,
      failed: 1,
      failure_types: { http_500: 1 },
    });
    expect(contract).toMatchObject({ key: 'call_contract', total_invocations: 2, p50_ms: 50 });
  });

  it.each([
    ['artifact', [['contract-7', 2]]],
    [
      'model',
      [
        ['gpt-4o', 10],
        ['my-finetune', 3],
      ],
    ],
    [
      'provider',
      [
        ['openai', 10],
        ['self', 3],
      ],
    ],
    [
      'invoker',
      [
        ['planner', 20],
        ['coder', 8],
      ],
    ],
    ['task_type', [['coach', 10]]],
    [
      'tool',
      [
        ['search', 10],
        ['fetch', 3],
        ['call_contract', 2],
      ],
    ],
  ])('groups by %s, busiest first, leaving out invocations without that key', async (groupBy, expected) => {
    const rows = await stats(`group_by=${groupBy}`);
    expect(rows.map((r) => [r.key, r.total_invocations])).toEqual(expected);
  });

  it('sums tokens and cost, with null cost where nothing was priced', async () => {
    const rows = await stats('group_by=model');
    expect(rows[0]).toMatchObject({ key: 'gpt-4o', input_tokens: 10_000, output_tokens: 1000 });
    expect(rows[0]!.cost_usd).toBeCloseTo(0.035, 12);
    expect(rows[1]).toMatchObject({ key: 'my-finetune', input_tokens: 21, cost_usd: null });
  });

  it.each([
    [
      'success=false',
      [
        ['coder', 2],
        ['planner', 2],
      ],
    ],
    ['kind=artifact', [['coder', 2]]],
    ['tool=search&since=2026-04-01T09:25:00Z', [['planner', 5]]],
    [
      'until=2026-04-01T09:05:00Z',
      [
        ['coder', 3],
        ['planner', 2],
      ],
    ],
    ['error_type=timeout', [['planner', 2]]],
    ['provider=openai&task_type=coach', [['planner', 10]]],
  ])('applies the invocation filters: %s', async (filters, expected) => {
    const rows = await stats(`group_by=invoker&${filters}`);
    expect(rows.map((r) => [r.key, r.total_invocations])).toEqual(expected);
  });

  it('answers an empty list when nothing matches', async () => {
    expect(await stats('group_by=tool&since=2030-01-01T00:00:00Z')).toEqual([]);
  });

  it.each([
    ['no group_by', ''],
    ['an unknown group_by', 'group_by=agent'],
    ['an unknown parameter', 'group_by=tool&limit=5'],
    ['a repeated parameter', 'group_by=tool&group_by=model'],
    ['a bad filter value', 'group_by=tool&success=maybe'],
  ])('answers %s with 400', async (_, query) => {
    const res = await app.get(`/v1/invocations/stats?${query}`);
    expect(res.status).toBe(400);
    expect(ErrorEnvelope.parse(res.body).error.code).toBe('invalid_argument');
  });
});

describe('GET /v1/artifacts/{artifact_id}/invocations', () => {
  it('answers the one artifact’s stats row as a bare object', async () => {
    const res = await app.get('/v1/artifacts/contract-7/invocations');
    expect(res.status).toBe(200);
    expect(InvocationStatsRow.parse(res.body)).toMatchObject({
      key: 'contract-7',
      total_invocations: 2,
      successful: 1,
      failed: 1,
      success_rate: 0.5,
      failure_types: { reverted: 1 },
    });
  });

  it('applies the invocation filters', async () => {
    const res = await app.get('/v1/artifacts/contract-7/invocations?success=true');
    expect(res.body).toMatchObject({ total_invocations: 1, failed: 0 });
  });

  it.each([
    ['an artifact never invoked', '/v1/artifacts/contract-8/invocations', 404],
    [
      'an artifact filtered out entirely',
      '/v1/artifacts/contract-7/invocations?since=2030-01-01T00:00:00Z',
      404,
    ],
    ['an unknown parameter', '/v1/artifacts/contract-7/invocations?group_by=tool', 400],
  ])('answers %s with %i', async (_, path, status) => {
    expect((await app.get(path)).status).toBe(status);
  });

  it('never counts another tenant’s invocations', async () => {
    const res = await app.get('/v1/artifacts/contract-7/invocations', app.other.adminKey.key);
    expect(res.body).toMatchObject({ total_invocations: 2 });
  });
});
