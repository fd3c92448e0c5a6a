import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ByteArena } from './byte-arena.ts';
import { createPool } from './connection.ts';
import { renderStep } from './copy-rows.ts';
import { writeSteps } from './ingest-writer.ts';
import { getRun } from './run-queries.ts';
import { createTenant } from './tenancy.ts';
import { planTableReads } from './testing/query-plans.ts';
import { stepRecord } from './testing/step-records.ts';
import { createTestDatabase, type TestDatabase } from './testing/test-database.ts';

let db: TestDatabase;
let ids: { tenantId: string; projectId: string };
beforeAll(async () => {
  db = await createTestDatabase();
  const t = await createTenant(db.pool, 'writer-tests');
  ids = { tenantId: t.tenantId, projectId: t.projectId };
});
afterAll(async () => {
  await db?.drop();
});

const newRun = () => ({ ...ids, runId: randomUUID() });
const seqsOf = async (runId: string) =>
  (
    await db.pool.query<{ seq: number }>('SELECT seq FROM step WHERE run_id = $1 ORDER BY seq', [runId])
  ).rows.map((r) => r.seq);

describe('writeSteps', () => {
  it("stores a re-delivered span once and answers with the first delivery's step id and seq", async () => {
    const run = newRun();
    const records = [
      stepRecord({ ...run, type: 'tool' }),
      stepRecord({ ...run, type: 'tool', status: 'error' }),
    ];
    const first = await writeSteps(db.pool, records);
    const before = await getRun(db.pool, ids.tenantId, run.runId);
    const second = await writeSteps(db.pool, records);
    expect(first.map((o) => o.duplicate)).toEqual([false, false]);
    expect(second).toEqual(first.map((o) => ({ ...o, duplicate: true })));
    expect(await getRun(db.pool, ids.tenantId, run.runId)).toEqual(before);
    expect(before).toMatchObject({ step_count: 2, tool_count: 2, error_count: 1 });
    expect(await seqsOf(run.runId)).toEqual([1, 2]);
  });

  it('answers a span re-sent under another run id as the duplicate it is, with the rest of its batch stored', async () => {
    const [first, other, beside] = [newRun(), newRun(), newRun()];
    const span = stepRecord({ ...first, type: 'tool' });
    const [stored] = await writeSteps(db.pool, [span]);
    // The same span, its run id changed by the sender: its run is new to this batch, the span is not.
    const again = await writeSteps(db.pool, [
      { ...span, runId: other.runId },
      stepRecord({ ...beside, type: 'llm' }),
    ]);
    expect(again[0]).toEqual({ ...stored, duplicate: true });
    expect(again[1]).toMatchObject({ runId: beside.runId, seq: 1, duplicate: false });
    expect(await seqsOf(first.runId)).toEqual([1]);
    expect(await seqsOf(other.runId)).toEqual([]);
    expect(await seqsOf(beside.runId)).toEqual([1]);
  });

  it('stores a step rendered by a worker (renderStep) exactly as the record it was rendered from', async () => {
    const [plainRun, renderedRun] = [newRun(), newRun()];
    const recordOf = (run: ReturnType<typeof newRun>, traceId: Buffer) =>
      stepRecord({
        ...run,
        traceId,
        type: 'tool',
        name: 'search\tweb',
        status: 'error',
        errorMessage: 'line one\nline two \\ done',
        payloadJson: '{"input":{"q":"ünïcödé 日本 🚀"}}',
        resourceJson: '{"service.name":"planner"}',
        invocation: { kind: 'tool', target: 'search', success: false, errorType: 'timeout' },
        run: { isRoot: true, name: 'rendered' },
      });
    const traceId = randomBytes(16);
    const arena = new ByteArena(64);
    await writeSteps(db.pool, [recordOf(plainRun, traceId)]);
    await writeSteps(db.pool, [renderStep(recordOf(renderedRun, randomBytes(16)), arena)]);
    const stored = async (runId: string) => {
      const { rows } = await db.pool.query(
        `SELECT s.seq, s.type, s.name, s.status, s.error_message, s.payload, s.payload_hash, s.resource,
                s.ts, s.end_ts, i.kind, i.target, i.success, i.error_type, i.step_id = s.id AS linked
         FROM step s JOIN invocation i ON i.step_id = s.id AND i.tenant_id = s.tenant_id WHERE s.run_id = $1`,
        [runId],
      );
      return rows;
    };
    const plain = await stored(plainRun.runId);
    expect(plain).toHaveLength(1);
    expect(plain[0]).toMatchObject({
      name: 'search\tweb',
      payload: { input: { q: 'ünïcödé 日本 🚀' } },
      linked: true,
    });
    expect(await stored(renderedRun.runId)).toEqual(plain);
    expect(await getRun(db.pool, ids.tenantId, renderedRun.runId)).toMatchObject({
      name: 'rendered',
      status: 'failed',
      step_count: 1,
      tool_count: 1,
      error_count: 1,
    });
  });

  it('refuses an error type on a successful call, and stores nothing of that batch', async () => {
    const [good, bad] = [newRun(), newRun()];
    const batch = [
      stepRecord({
        ...good,
        type: 'tool',
        invocation: { kind: 'tool', target: 'search', success: false, errorType: 'timeout' },
      }),
      stepRecord({
        ...bad,
        type: 'tool',
        invocation: { kind: 'tool', target: 'search', success: true, errorType: 'timeout' },
      }),
    ];
    await expect(writeSteps(db.pool, batch)).rejects.toThrow(/invocation_error_type_only_on_failure/);
    const { rows } = await db.pool.query(
      'SELECT count(*)::int AS n FROM step WHERE run_id = ANY($1::uuid[])',
      [[good.runId, bad.runId]],
    );
    expect(rows[0].n).toBe(0);
  });

  it('stores a span repeated inside one batch once', async () => {
    const run = newRun();
    const record = stepRecord(run);
    const outcomes = await writeSteps(db.pool, [record, { ...record }]);
    expect(outcomes[1]).toEqual({ ...outcomes[0], duplicate: true });
    expect(await seqsOf(run.runId)).toEqual([1]);
  });

  it('keeps seq unique and gap-free when many connections write one run at once, with overlaps', async () => {
    const run = newRun();
    const other = newRun();
    const traceId = randomBytes(16);
    const batches = Array.from({ length: 12 }, () =>
      Array.from({ length: 40 }, (_, i) => stepRecord({ ...(i % 2 ? run : other), traceId })),
    );
    // Every batch is sent twice, concurrently, in different orders of runs.
    const results = await Promise.all(
      [...batches, ...batches.map((b) => [...b].reverse())].map((b) => writeSteps(db.pool, b)),
    );
    const accepted = results.flat().filter((o) => !o.duplicate);
    expect(accepted).toHaveLength(12 * 40);
    expect(await seqsOf(run.runId)).toEqual(Array.from({ length: 240 }, (_, i) => i + 1));
    expect(await seqsOf(other.runId)).toEqual(Array.from({ length: 240 }, (_, i) => i + 1));
    expect((await getRun(db.pool, ids.tenantId, run.runId))?.step_count).toBe(240);
  });

  it.each(['parent first', 'child first'])(
    'counts only the leaf of a model call instrumented twice (%s)',
    async (order) => {
      const run = newRun();
      const traceId = randomBytes(16);
      const model = (spanId: Buffer, parentSpanId: Buffer | null, tokens: number, cost: number) =>
        stepRecord({
          ...run,
          traceId,
          spanId,
          parentSpanId,
          type: 'llm',
          model: 'gpt-4o',
          invocation: {
            kind: 'model',
            target: 'gpt-4o',
            model: 'gpt-4o',
            inputTokens: tokens,
            outputTokens: tokens / 10,
            costUsd: cost,
          },
        });
      const parentSpan = randomBytes(8);
      const parent = model(parentSpan, null, 1000, 0.5);
      const child = model(randomBytes(8), parentSpan, 1000, 0.5);
      const sibling = model(randomBytes(8), parentSpan, 200, 0.25);
      for (const batch of order === 'parent first'
        ? [[parent], [child], [sibling]]
        : [[child], [sibling], [parent]]) {
        await writeSteps(db.pool, batch);
      }
      expect(await getRun(db.pool, ids.tenantId, run.runId)).toMatchObject({
        input_tokens: 1200,
        output_tokens: 120,
        cost_usd: 0.75,
        model_names: ['gpt-4o'],
      });
    },
  );

  it('leaves cost null, not zero, when no model call of the run is priced', async () => {
    const run = newRun();
    await writeSteps(db.pool, [
      stepRecord({
        ...run,
        type: 'llm',
        invocation: {
          kind: 'model',
          target: 'mystery-model',
          model: 'mystery-model',
          inputTokens: 10,
          outputTokens: 5,
          costUsd: null,
        },
      }),
    ]);
    expect(await getRun(db.pool, ids.tenantId, run.runId)).toMatchObject({
      input_tokens: 10,
      cost_usd: null,
    });
  });

  it('keeps tenants apart even when they name the same explicit run id', async () => {
    const other = await createTenant(db.pool, 'other');
    const runId = randomUUID();
    await writeSteps(db.pool, [stepRecord({ ...ids, runId, run: { isRoot: true, name: 'mine' } })]);
    await writeSteps(db.pool, [
      stepRecord({
        tenantId: other.tenantId,
        projectId: other.projectId,
        runId,
        run: { isRoot: true, name: 'theirs' },
      }),
    ]);
    expect((await getRun(db.pool, ids.tenantId, runId))?.name).toBe('mine');
    expect((await getRun(db.pool, other.tenantId, runId))?.name).toBe('theirs');
  });
});

describe('writeSteps on a fresh database', () => {
  it('looks its runs up by key in every batch, not by scanning the run table, once the table has grown', async () => {
    // PostgreSQL plans a named statement generically after five executions: on a fresh database that is
    // while the tables are tiny, and a generic plan that scans them was kept until the next ANALYZE.
    const fresh = await createTestDatabase();
    // One connection: the writer's named statements and their plans live in it.
    const writer = createPool(fresh.url, 1);
    try {
      const t = await createTenant(fresh.pool, 'fresh-writer');
      const batch = (runs: number) =>
        Array.from({ length: runs }, () =>
          stepRecord({ tenantId: t.tenantId, projectId: t.projectId, runId: randomUUID() }),
        );
      await fresh.pool.query('ALTER TABLE run SET (autovacuum_enabled = false)');
      for (let i = 0; i < 8; i++) await writeSteps(writer, batch(2));
      await writeSteps(fresh.pool, batch(3000));
      const next = batch(2);
      await writeSteps(writer, next);
      // The plan the writer's connection runs its run lookup with now, for that batch's runs (EXECUTE
      // takes no bind parameters: uuid array literals).
      const uuids = (values: string[]) => `'{${values.join(',')}}'::uuid[]`;
      const reads = await planTableReads(
        writer,
        `EXECUTE "ingest-lock-runs"(${uuids(next.map((r) => r.tenantId))}, ${uuids(next.map((r) => r.runId))})`,
      );
      expect(reads).not.toContain('Seq Scan on run');
      expect(reads).toContain('Index Scan on run');
    } finally {
      await writer.end();
      await fresh.drop();
    }
  });
});
