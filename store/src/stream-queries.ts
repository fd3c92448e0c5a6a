import type { StreamEventType } from '@agentrace/schemas';
import type { Pool } from 'pg';
import { type Queryable, RAW_JSONB } from './connection.ts';
import { APPROVAL_COLUMNS, type ApprovalRow, toApproval } from './governance.ts';
import {
  type RawJsonStepRow,
  RUN_COLUMNS,
  type RunRow,
  STEP_COLUMNS,
  STEP_PARENT_JOIN,
  toRun,
  toStepFields,
} from './row-mappers.ts';
import { compareCursors, endOfCommit, type StreamCursor, type StreamEvent } from './stream-events.ts';

interface EventRow {
  seq: string;
  id: string;
  n: number;
  tenant_id: string;
  project_id: string;
  run_id: string;
  trace_id: string | null;
  type: StreamEventType;
  object_id: string;
}

/**
 * The log as events: a row that names a run's steps (first_seq, step_count) becomes one event per step,
 * in seq order, with the step's own trace and id (a run may span traces); other rows are one event each (n = 0). A step
 * gone since (retention) has no event. `c` and `e` are the commit and the row, `x` the event's columns.
 * Each commit's rows, and each row's steps, are probed by key: OFFSET 0 keeps PostgreSQL from flattening
 * those into joins, which it planned as hash joins over the whole log and every step while the statistics
 * lagged behind growing tables.
 */
const EVENT_LOG = `stream_commit c
  CROSS JOIN LATERAL (SELECT * FROM stream_event e WHERE e.xid = c.xid OFFSET 0) e
  LEFT JOIN LATERAL (
    SELECT st.seq - e.first_seq AS n, st.id, st.trace_id FROM step st
    WHERE st.tenant_id = e.tenant_id AND st.run_id = e.run_id
      AND st.seq >= e.first_seq AND st.seq < e.first_seq + e.step_count
    OFFSET 0
  ) s ON true
  CROSS JOIN LATERAL (
    SELECT coalesce(s.n, 0) AS n, coalesce(s.id, e.object_id) AS object_id,
           coalesce(s.trace_id, e.trace_id) AS trace_id
  ) x`;

const EVENT_COLUMNS = `c.seq::text AS seq, e.id::text AS id, x.n, e.tenant_id, e.project_id, e.run_id,
  encode(x.trace_id, 'hex') AS trace_id, e.type, x.object_id`;

/** Events after cursor ($1, $2, $3) in log order: numbered commits from $1 on, then their events. */
const EVENTS_AFTER = `${EVENT_LOG}
  WHERE c.seq >= $1 AND x.object_id IS NOT NULL AND (c.seq, e.id, x.n) > ($1::bigint, $2::bigint, $3::int)`;

const LOG_ORDER = 'ORDER BY c.seq, e.id, x.n';

const toEvent = (r: EventRow): StreamEvent => ({
  cursor: { commit: BigInt(r.seq), id: BigInt(r.id), n: r.n },
  tenantId: r.tenant_id,
  projectId: r.project_id,
  runId: r.run_id,
  traceId: r.trace_id,
  type: r.type,
  objectId: r.object_id,
});

/**
 * Where the log ends for a reader starting now: after every event of the last numbered commit. Commits
 * are numbered in commit order and visible in that order, so every later event comes after this.
 */
export async function streamStart(db: Queryable): Promise<StreamCursor> {
  const { rows } = await db.query<{ seq: string }>(
    'SELECT coalesce(max(seq), 0)::text AS seq FROM stream_commit',
  );
  return endOfCommit(BigInt(rows[0]!.seq));
}

/**
 * Up to `limit` events after `after`, across tenants, in log order. Every commit numbered before one
 * that is visible is visible too, so nothing can later appear behind what this returns.
 */
export async function readEventsAfter(
  db: Queryable,
  after: StreamCursor,
  limit: number,
): Promise<StreamEvent[]> {
  const { rows } = await db.query<EventRow>(eventsAfterQuery(after, limit));
  return rows.map(toEvent);
}

/** `readEventsAfter`'s query. */
export const eventsAfterQuery = (after: StreamCursor, limit: number) => ({
  text: `SELECT ${EVENT_COLUMNS} FROM ${EVENTS_AFTER} ${LOG_ORDER} LIMIT $4`,
  values: [after.commit.toString(), after.id.toString(), after.n, limit],
});

/** What a subscriber wants to see; the tenant always, the rest when given. */
export interface StreamFilter {
  tenantId: string;
  projectId: string | null;
  runId: string | null;
  traceId: string | null;
  types: ReadonlySet<StreamEventType>;
}

/**
 * The tenant's events in (`after`, `through`] that pass `filter`, in order, at most `limit`: a
 * reconnecting subscriber's back-fill. `through` must be settled (a position a reader reached).
 */
export async function readEventRange(
  db: Queryable,
  filter: StreamFilter,
  after: StreamCursor,
  through: StreamCursor,
  limit: number,
): Promise<StreamEvent[]> {
  const { rows } = await db.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM ${EVENTS_AFTER}
       AND (c.seq, e.id, x.n) <= ($4::bigint, $5::bigint, $6::int) AND e.tenant_id = $7
       AND ($8::uuid IS NULL OR e.project_id = $8) AND ($9::uuid IS NULL OR e.run_id = $9)
       AND ($10::bytea IS NULL OR x.trace_id = $10) AND e.type = ANY($11::text[])
     ${LOG_ORDER} LIMIT $12`,
    [
      after.commit.toString(),
      after.id.toString(),
      after.n,
      through.commit.toString(),
      through.id.toString(),
      through.n,
      filter.tenantId,
      filter.projectId,
      filter.runId,
      filter.traceId === null ? null : Buffer.from(filter.traceId, 'hex'),
      [...filter.types],
      limit,
    ],
  );
  return rows.map(toEvent);
}

const key = (tenantId: string, id: string) => `${tenantId}/${id}`;

/**
 * The rows of `table`, as `alias`, whose (tenant_id, id) pairs arrays $1 and $2 list: one primary-key
 * probe each (LATERAL with LIMIT, which PostgreSQL never flattens into a join), so that a page costs the
 * same however large the table and whatever its statistics say.
 */
const byIds = (table: string, alias: string) => `unnest($1::uuid[], $2::uuid[]) AS k(wanted_tenant, wanted_id)
  CROSS JOIN LATERAL (
    SELECT * FROM ${table} ${alias} WHERE ${alias}.tenant_id = k.wanted_tenant AND ${alias}.id = k.wanted_id
    LIMIT 1
  ) ${alias}`;

/** The steps `(tenantIds[i], stepIds[i])`, as `GET /v1/runs/{id}/steps` lists them (payloads unparsed). */
export const streamStepsQuery = (tenantIds: string[], stepIds: string[]) => ({
  text: `SELECT s.tenant_id, ${STEP_COLUMNS} FROM ${byIds('step', 's')} ${STEP_PARENT_JOIN}`,
  values: [tenantIds, stepIds],
  types: RAW_JSONB,
});

/**
 * The JSON of the objects `events` announce, in three queries at most, by `${tenant_id}/${object_id}`:
 * steps as `GET /v1/runs/{id}/steps` lists them, runs and approvals as their `GET` returns them (absent
 * when gone: retention). Step payloads pass through as the text PostgreSQL sent, unparsed.
 */
export async function renderStreamObjects(
  db: Queryable,
  events: readonly StreamEvent[],
): Promise<Map<string, string>> {
  const json = new Map<string, string>();
  const idsOf = (type: StreamEventType) => {
    const wanted = new Map(
      events.filter((e) => e.type === type).map((e) => [key(e.tenantId, e.objectId), e]),
    );
    return [[...wanted.values()].map((e) => e.tenantId), [...wanted.values()].map((e) => e.objectId)];
  };
  const [stepIds, runIds, approvalIds] = [
    idsOf('step.created'),
    idsOf('run.updated'),
    idsOf('approval.updated'),
  ];
  const [steps, runs, approvals] = await Promise.all([
    stepIds[0]!.length === 0
      ? null
      : db.query<RawJsonStepRow & { tenant_id: string }>(streamStepsQuery(stepIds[0]!, stepIds[1]!)),
    runIds[0]!.length === 0
      ? null
      : db.query<RunRow & { tenant_id: string }>(
          `SELECT r.tenant_id, ${RUN_COLUMNS} FROM ${byIds('run', 'r')}`,
          runIds,
        ),
    approvalIds[0]!.length === 0
      ? null
      : db.query<ApprovalRow & { tenant_id: string }>(
          `SELECT tenant_id, ${APPROVAL_COLUMNS} FROM ${byIds('approval', 'a')}`,
          approvalIds,
        ),
  ]);
  for (const row of steps?.rows ?? []) {
    // toStep's field order: the step's fields, then its two documents.
    const fields = JSON.stringify(toStepFields(row));
    json.set(
      key(row.tenant_id, row.id),
      `${fields.slice(0, -1)},"payload":${row.payload},"redaction_meta":${row.redaction_meta}}`,
    );
  }
  for (const row of runs?.rows ?? []) json.set(key(row.tenant_id, row.id), JSON.stringify(toRun(row)));
  for (const row of approvals?.rows ?? [])
    json.set(key(row.tenant_id, row.id), JSON.stringify(toApproval(row)));
  return json;
}

/** The key of an event's object in `renderStreamObjects`' answer. */
export const objectKey = (e: StreamEvent): string => key(e.tenantId, e.objectId);

/** Whether a resume from `cursor` would miss events that pruning deleted. */
export async function isBeforeStreamHorizon(db: Queryable, cursor: StreamCursor): Promise<boolean> {
  const { rows } = await db.query<{ seq: string; id: string; n: number }>(
    'SELECT seq::text AS seq, id::text AS id, n FROM stream_horizon',
  );
  const horizon = rows[0]
    ? { commit: BigInt(rows[0].seq), id: BigInt(rows[0].id), n: rows[0].n }
    : { commit: 0n, id: 0n, n: 0 };
  return compareCursors(cursor, horizon) < 0;
}

/**
 * Deletes the commits numbered before `before` (and their events), oldest first, `batch` commits at a
 * time, each batch its own short transaction, and moves the horizon that tells resumes from before it
 * that they have a gap. Returns the events deleted.
 */
export async function pruneStreamEvents(pool: Pool, before: Date, batch = 50): Promise<number> {
  let deleted = 0;
  for (;;) {
    const { rows } = await pool.query<{ commits: number; events: number }>(
      `WITH doomed AS (
         SELECT xid, seq FROM stream_commit WHERE seq IS NOT NULL AND committed_at < $1 ORDER BY seq LIMIT $2
       ), gone_events AS (
         DELETE FROM stream_event e USING doomed d WHERE e.xid = d.xid
         RETURNING d.seq, e.id, coalesce(e.step_count, 1) AS events
       ), gone AS (
         DELETE FROM stream_commit c USING doomed d WHERE c.xid = d.xid RETURNING 1
       ), last AS (
         SELECT seq, id, events - 1 AS n FROM gone_events ORDER BY seq DESC, id DESC LIMIT 1
       ), moved AS (
         INSERT INTO stream_horizon AS h (seq, id, n) SELECT seq, id, n FROM last
         ON CONFLICT (only_row) DO UPDATE SET seq = excluded.seq, id = excluded.id, n = excluded.n
           WHERE (excluded.seq, excluded.id, excluded.n) > (h.seq, h.id, h.n)
         RETURNING 1
       )
       SELECT (SELECT count(*) FROM gone)::int AS commits,
              (SELECT coalesce(sum(events), 0) FROM gone_events)::int AS events`,
      [before, batch],
    );
    deleted += rows[0]!.events;
    if (rows[0]!.commits < batch) return deleted;
  }
}
