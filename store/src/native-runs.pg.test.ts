import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSteps } from './ingest-writer.ts';
import { declareRun, finishRun } from './native-runs.ts';
import { getRun } from './run-queries.ts';
import { createTenant } from './tenancy.ts';
import { stepRecord } from './testing/step-records.ts';
import { createTestDatabase, type TestDatabase } from './testing/test-database.ts';

let db: TestDatabase;
let ids: { tenantId: string; projectId: string };
beforeAll(async () => {
  db = await createTestDatabase();
  const t = await createTenant(db.pool, 'native-tests');
  ids = { tenantId: t.tenantId, projectId: t.projectId };
});
afterAll(async () => {
  await db?.drop();
});

/** A native step: no span id, a client step id. */
const nativeStep = (runId: string, stepId = randomUUID()) => stepRecord({ ...ids, runId, spanId: null, traceId: null, stepId });

describe('writeSteps with client step ids', () => {
  it('stores a step id once per tenant and answers a repeat, even from another run, with where it is', async () => {
    const a = randomUUID();
    const b = randomUUID();
    const record = nativeStep(a);
    const [first] = await writeSteps(db.pool, [record]);
    expect(first).toEqual({ stepId: record.stepId, runId: a, seq: 1, duplicate: false });
    const [again, elsewhere, fresh] = await writeSteps(db.pool, [record, { ...record, runId: b }, nativeStep(b)]);
    expect(again).toEqual({ ...first, duplicate: true });
    expect(elsewhere).toEqual({ ...first, duplicate: true });
    expect(fresh).toMatchObject({ runId: b, seq: 1, duplicate: false });
    expect((await getRun(db.pool, ids.tenantId, a))?.step_count).toBe(1);
  });

  it('keeps seq gap-free when the same batch of step ids is written concurrently', async () => {
    const runId = randomUUID();
    const batch = Array.from({ length: 20 }, () => nativeStep(runId));
    const results = await Promise.all(Array.from({ length: 6 }, () => writeSteps(db.pool, batch)));
    expect(results.flat().filter((o) => !o.duplicate)).toHaveLength(20);
    const { rows } = await db.pool.query<{ seq: number }>('SELECT seq FROM step WHERE run_id = $1 ORDER BY seq', [runId]);
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });
});

describe('declareRun and finishRun', () => {
  const declaration = (over: Partial<Parameters<typeof declareRun>[1]> = {}) => ({
    ...ids,
    runId: randomUUID(),
    name: 'declared',
    tags: {},
    parentRunId: null,
    traceId: randomBytes(16),
    startedAt: '2026-01-01T00:00:00Z',
    ...over,
  });

  it('creates, then answers a retry, then refuses another name or another project', async () => {
    const d = declaration();
    expect((await declareRun(db.pool, d)).outcome).toBe('created');
    expect((await declareRun(db.pool, d)).outcome).toBe('existing');
    expect((await declareRun(db.pool, { ...d, name: 'renamed' })).outcome).toBe('conflict');
    expect((await declareRun(db.pool, { ...d, projectId: randomUUID() })).outcome).toBe('conflict');
    expect((await getRun(db.pool, ids.tenantId, d.runId))?.name).toBe('declared');
  });

  it('lets only one of two racing different finishes win; the loser sees a conflict', async () => {
    const d = declaration();
    await declareRun(db.pool, d);
    const finish = (status: 'succeeded' | 'failed') => finishRun(db.pool, { ...ids, runId: d.runId, status, finishedAt: null });
    const results = await Promise.all([finish('succeeded'), finish('failed')]);
    expect(results.map((r) => r.ok).sort()).toEqual([false, true]);
    const loser = results.find((r) => !r.ok)!;
    expect(loser).toMatchObject({ ok: false, reason: 'conflict' });
  });
});
