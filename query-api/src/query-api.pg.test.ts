import { randomBytes, randomUUID } from 'node:crypto';
import { ErrorEnvelope, Invocation, listOf, Run, Step } from '@agentrace/schemas';
import { createKey, createTenant, type NewTenant, writeSteps } from '@agentrace/store';
import { createTestDatabase, stepRecord, type TestDatabase } from '@agentrace/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ListeningQueryApp, listenQueryApp } from './testing/listen-query-app.ts';

let db: TestDatabase;
let app: ListeningQueryApp;
let base: string;
let tenant: NewTenant;
let other: NewTenant;
const runIds: string[] = [];

async function get(path: string, key = tenant.adminKey.key) {
  const res = await fetch(base + path, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, body: (await res.json()) as unknown };
}

/** Ten finished runs, one minute apart, with varied attributes to filter on. */
async function seed() {
  for (let i = 0; i < 10; i++) {
    const runId = randomUUID();
    runIds.push(runId);
    const ids = { tenantId: tenant.tenantId, projectId: tenant.projectId, runId, traceId: randomBytes(16) };
    const ts = `2026-03-01T10:${String(i).padStart(2, '0')}:00.000000Z`;
    const root = stepRecord({
      ...ids,
      ts,
      type: 'agent',
      name: i % 2 ? 'triage' : 'research',
      status: i === 3 ? 'error' : 'ok',
      run: {
        isRoot: true,
        agentName: i < 5 ? 'planner' : 'coder',
        sessionId: `s${i % 3}`,
        userId: i === 7 ? 'alice' : null,
        tags: { env: i % 2 ? 'prod' : 'dev' },
      },
    });
    const call = stepRecord({
      ...ids,
      ts,
      parentSpanId: root.spanId,
      type: 'llm',
      model: i % 2 ? 'gpt-4o' : 'claude-sonnet-4',
      invocation: {
        kind: 'model',
        target: i % 2 ? 'gpt-4o' : 'claude-sonnet-4',
        model: i % 2 ? 'gpt-4o' : 'claude-sonnet-4',
        provider: i % 2 ? 'openai' : 'anthropic',
        taskType: 'coach',
        inputTokens: 100 * i,
        outputTokens: 10,
        costUsd: i * 0.01,
      },
    });
    const tool = stepRecord({
      ...ids,
      ts,
      parentSpanId: root.spanId,
      type: 'tool',
      status: i === 3 ? 'error' : 'ok',
      invocation: {
        kind: i === 9 ? 'artifact' : 'tool',
        target: i === 9 ? 'contract-7' : 'search',
        toolName: 'search',
        artifactId: i === 9 ? 'contract-7' : null,
        invoker: 'planner',
        success: i !== 3,
        errorType: i === 3 ? 'timeout' : null,
      },
    });
    await writeSteps(db.pool, [call, tool, root]);
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  tenant = await createTenant(db.pool, 'analysts');
  other = await createTenant(db.pool, 'someone-else');
  app = await listenQueryApp(db.pool);
  base = app.base;
});
afterAll(async () => {
  await app?.close();
  await db?.drop();
});

describe('an empty store', () => {
  it.each(['/v1/runs', '/v1/invocations'])('answers %s with an empty list', async (path) => {
    expect(await get(path)).toEqual({ status: 200, body: { data: [], next_cursor: null } });
  });
});

describe('with data', () => {
  beforeAll(seed);

  it('lists runs newest first and pages through them with the cursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await get(`/v1/runs?limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      const page = listOf(Run).parse(res.body);
      seen.push(...page.data.map((r) => r.run_id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...runIds].reverse());
  });

  it.each([
    ['status=failed', [3]],
    ['name=triage', [9, 7, 5, 3, 1]],
    ['agent=coder', [9, 8, 7, 6, 5]],
    ['model=gpt-4o', [9, 7, 5, 3, 1]],
    ['session_id=s0', [9, 6, 3, 0]],
    ['user_id=alice', [7]],
    ['tag.env=prod&agent=planner', [3, 1]],
    ['since=2026-03-01T10:07:00Z', [9, 8, 7]],
    ['until=2026-03-01T10:02:00Z', [1, 0]],
    ['has_error=true', [3]],
    ['min_cost_usd=0.075', [9, 8]],
  ])('filters runs by %s', async (query, expected) => {
    const page = listOf(Run).parse((await get(`/v1/runs?${query}`)).body);
    expect(page.data.map((r) => runIds.indexOf(r.run_id))).toEqual(expected);
  });

  it('filters runs by project and trace id', async () => {
    const one = listOf(Run).parse((await get('/v1/runs?limit=1')).body).data[0]!;
    const byTrace = listOf(Run).parse((await get(`/v1/runs?trace_id=${one.trace_id!.toUpperCase()}`)).body);
    expect(byTrace.data.map((r) => r.run_id)).toEqual([one.run_id]);
    const byProject = listOf(Run).parse((await get(`/v1/runs?project_id=${tenant.projectId}`)).body);
    expect(byProject.data).toHaveLength(10);
  });

  it.each([
    ['kind=artifact', 1],
    ['target=search', 9],
    ['tool=search&success=false', 1],
    ['error_type=timeout', 1],
    ['provider=anthropic', 5],
    ['model=gpt-4o', 5],
    ['task_type=coach', 10],
    ['artifact_id=contract-7', 1],
    ['invoker=planner', 10],
    ['since=2026-03-01T10:05:00Z&kind=model', 5],
  ])('filters invocations by %s', async (query, count) => {
    const page = listOf(Invocation).parse((await get(`/v1/invocations?${query}&limit=1000`)).body);
    expect(page.data).toHaveLength(count);
  });

  it('filters invocations by run', async () => {
    const page = listOf(Invocation).parse((await get(`/v1/invocations?run_id=${runIds[4]}`)).body);
    expect(page.data.map((i) => i.kind).sort()).toEqual(['model', 'tool']);
    expect(page.data.every((i) => i.run_id === runIds[4])).toBe(true);
  });

  it('returns a run, its steps after a seq, and its steps of one type', async () => {
    const run = Run.parse((await get(`/v1/runs/${runIds[3]}`)).body);
    expect(run).toMatchObject({ status: 'failed', step_count: 3, error_count: 2, tool_count: 1, input_tokens: 300 });
    const after = listOf(Step).parse((await get(`/v1/runs/${runIds[3]}/steps?after_seq=1`)).body);
    expect(after.data.map((s) => s.seq)).toEqual([2, 3]);
    const tools = listOf(Step).parse((await get(`/v1/runs/${runIds[3]}/steps?type=tool`)).body);
    expect(tools.data).toEqual([expect.objectContaining({ type: 'tool', status: 'error' })]);
    const paged = listOf(Step).parse((await get(`/v1/runs/${runIds[3]}/steps?limit=2`)).body);
    const rest = listOf(Step).parse((await get(`/v1/runs/${runIds[3]}/steps?cursor=${paged.next_cursor}`)).body);
    expect([...paged.data, ...rest.data].map((s) => s.seq)).toEqual([1, 2, 3]);
  });
});

describe('errors', () => {
  const errorOf = (body: unknown) => ErrorEnvelope.parse(body).error;

  it.each([
    ['/v1/runs?colour=blue', 'colour'],
    ['/v1/runs?limit=0', 'limit'],
    ['/v1/runs?limit=1001', 'limit'],
    ['/v1/runs?status=done', 'status'],
    ['/v1/runs?since=yesterday', 'since'],
    ['/v1/runs?trace_id=xyz', 'trace_id'],
    ['/v1/runs?cursor=not-a-cursor', 'cursor'],
    ['/v1/runs?status=failed&status=running', 'status'],
    ['/v1/invocations?kind=banana', 'kind'],
    ['/v1/invocations?unknown=1', 'unknown'],
    ['/v1/runs/not-a-uuid', 'run_id'],
    ['/v1/runs/not-a-uuid/steps', 'run_id'],
  ])('rejects %s with 400 invalid_argument naming %s', async (path, field) => {
    const res = await get(path);
    expect(res.status).toBe(400);
    const error = errorOf(res.body);
    expect(error).toMatchObject({ code: 'invalid_argument', retryable: false });
    expect(Object.keys(error.details ?? {})).toContain(field);
  });

  it.each(['/v1/runs/RUN', '/v1/runs/RUN/steps', '/v1/runs/RUN/timeline'])('answers 404 for %s of an unknown run', async (path) => {
    const res = await get(path.replace('RUN', randomUUID()));
    expect(res.status).toBe(404);
    expect(errorOf(res.body).code).toBe('not_found');
  });

  it('answers 404, never 403, for another tenant\'s run, and lists none of its data', async () => {
    const path = `/v1/runs/${runIds[0]}`;
    expect((await get(path)).status).toBe(200);
    const res = await get(path, other.adminKey.key);
    expect(res.status).toBe(404);
    expect(listOf(Run).parse((await get('/v1/runs', other.adminKey.key)).body).data).toEqual([]);
    expect(listOf(Invocation).parse((await get('/v1/invocations', other.adminKey.key)).body).data).toEqual([]);
  });

  it('answers 401 without a key or with an unknown one, and 403 to an ingest key', async () => {
    const none = await fetch(`${base}/v1/runs`);
    expect(none.status).toBe(401);
    expect(errorOf(await none.json()).code).toBe('unauthenticated');
    expect((await get('/v1/runs', 'art_not-a-real-key')).status).toBe(401);
    const ingest = await get('/v1/runs', tenant.ingestKey.key);
    expect(ingest.status).toBe(403);
    expect(errorOf(ingest.body).code).toBe('permission_denied');
  });

  it('accepts a viewer key for reads', async () => {
    const viewer = await createKey(db.pool, { tenantId: tenant.tenantId, kind: 'user', role: 'viewer' });
    expect((await get('/v1/runs', viewer.key)).status).toBe(200);
  });

  it('answers unknown endpoints with the error envelope', async () => {
    const res = await get('/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(errorOf(res.body).code).toBe('not_found');
  });
});
