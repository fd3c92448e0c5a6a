import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSteps } from './ingest-writer.ts';
import { declareRun, finishRun } from './native-runs.ts';
import {
  compareCursors,
  cursorText,
  endOfCommit,
  parseStreamCursor,
  recordStreamEvents,
} from './stream-events.ts';
import {
  eventsAfterQuery,
  isBeforeStreamHorizon,
  pruneStreamEvents,
  readEventRange,
  readEventsAfter,
  renderStreamObjects,
  streamStart,
  streamStepsQuery,
} from './stream-queries.ts';
import { createTenant } from './tenancy.ts';
import { planTableReads } from './testing/query-plans.ts';
import { stepRecord } from './testing/step-records.ts';
import { createTestDatabase, type TestDatabase } from './testing/test-database.ts';
import { withTenant } from './transaction.ts';

let db: TestDatabase;
let ids: { tenantId: string; projectId: string };
beforeAll(async () => {
  db = await createTestDatabase();
  const t = await createTenant(db.pool, 'stream-tests');
  ids = { tenantId: t.tenantId, projectId: t.projectId };
});
afterAll(async () => {
  await db?.drop();
});

/** Every event after `from`. */
const after = (from: Parameters<typeof readEventsAfter>[1]) => readEventsAfter(db.pool, from, 1000);

const ALL = new Set(['step.created', 'run.updated', 'approval.updated'] as const);
const filter = (over: Partial<Parameters<typeof readEventRange>[1]> = {}) => ({
  tenantId: ids.tenantId,
  projectId: null,
  runId: null,
  traceId: null,
  types: ALL,
  ...over,
});

describe('stream cursors', () => {
  it.each(['1-2-0', '1-2-3', '9223372036854775807-9223372036854775807-2147483647'])(
    'round-trips %s',
    (text) => {
      expect(cursorText(parseStreamCursor(text)!)).toBe(text);
    },
  );
  it("reads an earlier version's commit-id as that row's only event", () => {
    expect(parseStreamCursor('7-42')).toEqual({ commit: 7n, id: 42n, n: 0 });
  });
  it.each([
    '',
    '1',
    '1-',
    '-1',
    'a-b',
    '1-2-',
    '1-2-3-4',
    '1-2-x',
    '1-2-2147483648',
    '1.5-2',
    '9223372036854775808-1',
    '12345678901234567890-1',
  ])('refuses %j', (text) => {
    expect(parseStreamCursor(text)).toBeNull();
  });
  it('orders by commit, then by row, then by step in the row', () => {
    const c = (t: string) => parseStreamCursor(t)!;
    expect(compareCursors(c('5-9-9'), c('6-1-0'))).toBe(-1);
    expect(compareCursors(c('6-2-0'), c('6-1-5'))).toBe(1);
    expect(compareCursors(c('6-1-4'), c('6-1-5'))).toBeLessThan(0);
    expect(compareCursors(c('6-1'), c('6-1-0'))).toBe(0);
  });
});

describe('the event log', () => {
  it('records a step event per new step and a run event per run touched, in the batch transaction; none for re-deliveries', async () => {
    const from = await streamStart(db.pool);
    const runA = randomUUID();
    const runB = randomUUID();
    const records = [
      stepRecord({ ...ids, runId: runA }),
      stepRecord({ ...ids, runId: runB }),
      stepRecord({ ...ids, runId: runA }),
    ];
    const outcomes = await writeSteps(db.pool, records);
    await writeSteps(db.pool, records);
    const events = await after(from);
    // Each run's new steps in seq order (runs in the writer's lock order), then each run touched.
    const stepsOf = (runId: string) =>
      outcomes.filter((o) => o.runId === runId).sort((a, b) => a.seq - b.seq);
    const runs = [runA, runB].sort();
    expect(events.map((e) => [e.type, e.objectId])).toEqual([
      ...runs.flatMap((r) => stepsOf(r).map((o) => ['step.created', o.stepId])),
      ...runs.map((r) => ['run.updated', r]),
    ]);
    // One transaction: one commit, whose rows name each run's new steps at once.
    expect(new Set(events.map((e) => e.cursor.commit)).size).toBe(1);
    const { rows } = await db.pool.query(
      `SELECT type, first_seq, step_count FROM stream_event WHERE run_id = ANY($1::uuid[]) ORDER BY id`,
      [runs],
    );
    expect(rows).toEqual([
      ...runs.map((r) => ({ type: 'step.created', first_seq: 1, step_count: stepsOf(r).length })),
      ...runs.map(() => ({ type: 'run.updated', first_seq: null, step_count: null })),
    ]);
    // Every event has its own position, in order.
    for (let i = 1; i < events.length; i++)
      expect(compareCursors(events[i - 1]!.cursor, events[i]!.cursor)).toBe(-1);
    const json = await renderStreamObjects(db.pool, events);
    expect(JSON.parse(json.get(`${ids.tenantId}/${outcomes[0]!.stepId}`)!)).toMatchObject({
      step_id: outcomes[0]!.stepId,
      seq: 1,
    });
    expect(JSON.parse(json.get(`${ids.tenantId}/${runA}`)!)).toMatchObject({ run_id: runA, step_count: 2 });
  });

  it('records native run declarations and finishes, not repeats of them', async () => {
    const from = await streamStart(db.pool);
    const runId = randomUUID();
    const declaration = {
      ...ids,
      runId,
      name: 'n',
      tags: {},
      parentRunId: null,
      traceId: null,
      startedAt: '2026-03-01T10:00:00.000Z',
    };
    await declareRun(db.pool, declaration);
    await declareRun(db.pool, declaration);
    const finish = { ...ids, runId, status: 'succeeded' as const, finishedAt: null };
    await finishRun(db.pool, finish);
    await finishRun(db.pool, finish);
    const events = await after(from);
    expect(events.map((e) => [e.type, e.objectId])).toEqual([
      ['run.updated', runId],
      ['run.updated', runId],
    ]);
  });

  it('orders the log by commit: an event drawn first but committed last comes last, and none is hidden meanwhile', async () => {
    const from = await streamStart(db.pool);
    const event = (runId: string) => ({
      ...ids,
      runId,
      traceId: null,
      type: 'run.updated' as const,
      objectId: runId,
    });
    const first = await db.pool.connect();
    const second = await db.pool.connect();
    try {
      await first.query('BEGIN');
      await recordStreamEvents(first, [event('00000000-0000-4000-8000-00000000000a')]);
      await second.query('BEGIN');
      await recordStreamEvents(second, [event('00000000-0000-4000-8000-00000000000b')]);
      expect(await after(from)).toEqual([]);
      await second.query('COMMIT');
      const committed = await after(from);
      expect(committed.map((e) => e.runId.slice(-1))).toEqual(['b']);
      await first.query('COMMIT');
      // Read on from the reader's position: the later commit comes after it, not lost behind it.
      expect((await after(committed[0]!.cursor)).map((e) => e.runId.slice(-1))).toEqual(['a']);
    } finally {
      first.release();
      second.release();
    }
    const events = await after(from);
    expect(events.map((e) => e.runId.slice(-1))).toEqual(['b', 'a']);
    expect(compareCursors(events[0]!.cursor, events[1]!.cursor)).toBe(-1);
  });

  it('starts "now" after every committed event, and a transaction that wrote none takes no number', async () => {
    await writeSteps(db.pool, [stepRecord({ ...ids, runId: randomUUID() })]);
    const now = await streamStart(db.pool);
    expect(now).toEqual(endOfCommit(now.commit));
    expect(await after(now)).toEqual([]);
    await db.pool.query('SELECT 1');
    expect(await streamStart(db.pool)).toEqual(now);
  });

  it('reads a range of one tenant through its filters, as the application role', async () => {
    const other = await createTenant(db.pool, 'stream-other');
    const from = await streamStart(db.pool);
    const mine = randomUUID();
    await writeSteps(db.pool, [
      stepRecord({ ...ids, runId: mine }),
      stepRecord({ ...ids, runId: randomUUID() }),
    ]);
    await writeSteps(db.pool, [
      stepRecord({ tenantId: other.tenantId, projectId: other.projectId, runId: randomUUID() }),
    ]);
    const events = await after(from);
    const through = events[events.length - 1]!.cursor;
    const range = (f: ReturnType<typeof filter>) =>
      withTenant(db.pool, ids.tenantId, (tx) => readEventRange(tx, f, from, through, 100));
    expect((await range(filter())).length).toBe(4);
    expect((await range(filter({ runId: mine }))).map((e) => e.type)).toEqual([
      'step.created',
      'run.updated',
    ]);
    expect((await range(filter({ types: new Set(['run.updated'] as const) }))).length).toBe(2);
    expect(await range(filter({ projectId: randomUUID() }))).toEqual([]);
    // Another tenant's events are not there, even when asked for.
    const theirs = await withTenant(db.pool, ids.tenantId, (tx) =>
      readEventRange(tx, filter({ tenantId: other.tenantId }), from, through, 100),
    );
    expect(theirs).toEqual([]);
  });

  it('prunes old events in batches and moves the horizon past them', async () => {
    await writeSteps(db.pool, [stepRecord({ ...ids, runId: randomUUID() })]);
    const events = await after({ commit: 0n, id: 0n, n: 0 });
    const last = events[events.length - 1]!.cursor;
    expect(await pruneStreamEvents(db.pool, new Date(Date.now() - 3_600_000))).toBe(0);
    expect(await isBeforeStreamHorizon(db.pool, events[0]!.cursor)).toBe(false);
    expect(await pruneStreamEvents(db.pool, new Date(Date.now() + 60_000), 3)).toBe(events.length);
    expect(await isBeforeStreamHorizon(db.pool, events[0]!.cursor)).toBe(true);
    expect(await isBeforeStreamHorizon(db.pool, last)).toBe(false);
  });

  it("resumes inside a run's steps of one commit, filters them by each step's own trace, and skips a step gone since", async () => {
    const from = await streamStart(db.pool);
    const runId = randomUUID();
    const [traceA, traceB] = [randomBytes(16), randomBytes(16)];
    // One run over two traces (an explicit run id), five new steps in one commit: one row names them.
    const outcomes = await writeSteps(
      db.pool,
      [traceA, traceB, traceA, traceB, traceA].map((traceId) => stepRecord({ ...ids, runId, traceId })),
    );
    const events = await after(from);
    const steps = events.filter((e) => e.type === 'step.created');
    expect(steps.map((e) => e.objectId)).toEqual(outcomes.map((o) => o.stepId));
    expect(steps.map((e) => e.cursor.n)).toEqual([0, 1, 2, 3, 4]);
    expect(steps.map((e) => e.traceId)).toEqual(
      [traceA, traceB, traceA, traceB, traceA].map((t) => t.toString('hex')),
    );

    // Live and back-fill readers resume after the third step: the rest, once each.
    expect((await after(steps[2]!.cursor)).map((e) => e.objectId)).toEqual([
      outcomes[3]!.stepId,
      outcomes[4]!.stepId,
      runId,
    ]);
    const through = events[events.length - 1]!.cursor;
    const range = (f: ReturnType<typeof filter>, start = from) =>
      withTenant(db.pool, ids.tenantId, (tx) => readEventRange(tx, f, start, through, 100));
    expect((await range(filter({ runId }), steps[2]!.cursor)).map((e) => e.objectId)).toEqual([
      outcomes[3]!.stepId,
      outcomes[4]!.stepId,
      runId,
    ]);
    // A page boundary inside the row: two pages of two hold the steps in order, without repeats.
    const firstPage = await withTenant(db.pool, ids.tenantId, (tx) =>
      readEventRange(tx, filter({ runId }), from, through, 2),
    );
    const secondPage = await withTenant(db.pool, ids.tenantId, (tx) =>
      readEventRange(tx, filter({ runId }), firstPage[1]!.cursor, through, 2),
    );
    expect([...firstPage, ...secondPage].map((e) => e.objectId)).toEqual(
      outcomes.slice(0, 4).map((o) => o.stepId),
    );
    // Each step's own trace decides a trace filter.
    expect((await range(filter({ traceId: traceB.toString('hex') }))).map((e) => e.objectId)).toEqual([
      outcomes[1]!.stepId,
      outcomes[3]!.stepId,
    ]);

    // A step deleted since (retention) has no event; its neighbours keep theirs and their positions.
    await db.pool.query('DELETE FROM step WHERE tenant_id = $1 AND id = $2', [
      ids.tenantId,
      outcomes[1]!.stepId,
    ]);
    const again = (await after(from)).filter((e) => e.type === 'step.created');
    expect(again.map((e) => [e.objectId, e.cursor.n])).toEqual(
      [0, 2, 3, 4].map((i) => [outcomes[i]!.stepId, i]),
    );
  });
});

describe('rendering a page of events', () => {
  /** The tables a plan reads whole. */
  const scannedTables = async (query: { text: string; values: unknown[] }) =>
    (await planTableReads(db.pool, query.text, query.values)).filter((read) => read.startsWith('Seq Scan'));

  it('reads the log and looks each step and its parent up by index, never scanning a table, while they grow unanalyzed', async () => {
    // A fresh deployment: thousands of steps, no statistics yet (autovacuum has not got round to them).
    // The plain parent join was then planned as a hash join over every step, once per page of events.
    for (const table of ['step', 'stream_event', 'stream_commit'])
      await db.pool.query(`ALTER TABLE ${table} SET (autovacuum_enabled = false)`);
    try {
      const logStart = await streamStart(db.pool);
      const stepIds: string[] = [];
      for (let r = 0; r < 20; r++) {
        const runId = randomUUID();
        const traceId = randomBytes(16);
        const root = stepRecord({ ...ids, runId, traceId, run: { isRoot: true } });
        await writeSteps(db.pool, [root]);
        // Children in later batches: only their parent span is stored, the page looks the parent up.
        const children = Array.from({ length: 99 }, () =>
          stepRecord({ ...ids, runId, traceId, parentSpanId: root.spanId }),
        );
        stepIds.push(...(await writeSteps(db.pool, children)).map((o) => o.stepId));
      }
      const page = stepIds.slice(-240);
      const query = streamStepsQuery(
        page.map(() => ids.tenantId),
        page,
      );
      expect(await scannedTables(query)).toEqual([]);
      expect(await scannedTables(eventsAfterQuery(logStart, 1000))).toEqual([]);
      // And the page names each step's parent, which only the lookup knows.
      const { rows: rendered } = await db.pool.query(query);
      expect(rendered).toHaveLength(240);
      expect(rendered.every((row: { parent_step_id: string | null }) => row.parent_step_id !== null)).toBe(
        true,
      );
    } finally {
      for (const table of ['step', 'stream_event', 'stream_commit'])
        await db.pool.query(`ALTER TABLE ${table} RESET (autovacuum_enabled)`);
    }
  });
});
