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
import { compareCursors, type StreamCursor, type StreamEvent } from './stream-events.ts';

interface EventRow {
  xid: string;
  id: string;
  tenant_id: string;
  project_id: string;
  run_id: string;
  trace_id: string | null;
  type: StreamEventType;
  object_id: string;
}

const EVENT_COLUMNS = `e.xid::text AS xid, e.id::text AS id, e.tenant_id, e.project_id, e.run_id,
  encode(e.trace_id, 'hex') AS trace_id, e.type, e.object_id`;

const toEvent = (r: EventRow): StreamEvent => ({
  cursor: { xid: BigInt(r.xid), id: BigInt(r.id) },
  tenantId: r.tenant_id,
  projectId: r.project_id,
  runId: r.run_id,
  traceId: r.trace_id,
  type: r.type,
  objectId: r.object_id,
});

/**
 * Where the log ends for a reader starting now: every event before this position is settled (its
 * transaction is over), none after it is yet.
 */
export async function streamStart(db: Queryable): Promise<StreamCursor> {
  const { rows } = await db.query<{ xmin: string }>(
    'SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin',
  );
  return { xid: BigInt(rows[0]!.xmin), id: 0n };
}

/**
 * Up to `limit` settled events after `after`, across tenants, in order: those whose transaction is older
 * than every transaction still running, so that no commit still to come can land before them.
 * `withheld` tells that newer events are committed but wait for an older transaction to end.
 */
export async function readSettledEvents(
  db: Queryable,
  after: StreamCursor,
  limit: number,
): Promise<{ events: StreamEvent[]; withheld: boolean }> {
  const { rows } = await db.query<EventRow & { settled: boolean | null }>(
    `SELECT ${EVENT_COLUMNS}, e.xid < s.xmin AS settled
     FROM (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin) s
     LEFT JOIN LATERAL (
       SELECT * FROM stream_event WHERE (xid, id) > ($1::xid8, $2::bigint) ORDER BY xid, id LIMIT $3
     ) e ON true`,
    [after.xid.toString(), after.id.toString(), limit],
  );
  const events: StreamEvent[] = [];
  for (const row of rows) {
    if (row.id === null) break;
    if (!row.settled) return { events, withheld: true };
    events.push(toEvent(row));
  }
  return { events, withheld: false };
}

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
    `SELECT ${EVENT_COLUMNS} FROM stream_event e
     WHERE (e.xid, e.id) > ($1::xid8, $2::bigint) AND (e.xid, e.id) <= ($3::xid8, $4::bigint) AND e.tenant_id = $5
       AND ($6::uuid IS NULL OR e.project_id = $6) AND ($7::uuid IS NULL OR e.run_id = $7)
       AND ($8::bytea IS NULL OR e.trace_id = $8) AND e.type = ANY($9::text[])
     ORDER BY e.xid, e.id LIMIT $10`,
    [
      after.xid.toString(),
      after.id.toString(),
      through.xid.toString(),
      through.id.toString(),
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
  const byIds = '(SELECT * FROM unnest($1::uuid[], $2::uuid[]) AS k(tenant_id, id))';
  const [stepIds, runIds, approvalIds] = [
    idsOf('step.created'),
    idsOf('run.updated'),
    idsOf('approval.updated'),
  ];
  const [steps, runs, approvals] = await Promise.all([
    stepIds[0]!.length === 0
      ? null
      : db.query<RawJsonStepRow & { tenant_id: string }>({
          text: `SELECT s.tenant_id, ${STEP_COLUMNS} FROM step s ${STEP_PARENT_JOIN} WHERE (s.tenant_id, s.id) IN ${byIds}`,
          values: stepIds,
          types: RAW_JSONB,
        }),
    runIds[0]!.length === 0
      ? null
      : db.query<RunRow & { tenant_id: string }>(
          `SELECT r.tenant_id, ${RUN_COLUMNS} FROM run r WHERE (r.tenant_id, r.id) IN ${byIds}`,
          runIds,
        ),
    approvalIds[0]!.length === 0
      ? null
      : db.query<ApprovalRow & { tenant_id: string }>(
          `SELECT tenant_id, ${APPROVAL_COLUMNS} FROM approval WHERE (tenant_id, id) IN ${byIds}`,
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
  const { rows } = await db.query<{ xid: string; id: string }>(
    'SELECT xid::text AS xid, id::text AS id FROM stream_horizon',
  );
  const horizon = rows[0] ? { xid: BigInt(rows[0].xid), id: BigInt(rows[0].id) } : { xid: 0n, id: 0n };
  return compareCursors(cursor, horizon) < 0;
}

/**
 * Deletes the events recorded before `before` from the oldest `batch` at a time, each batch its own short
 * transaction (a long one would hold back every reader: they wait for transactions older than theirs),
 * and moves the horizon that tells resumes from before it that they have a gap. Creation times follow the
 * log's order but for commits in flight together, so a batch stops looking at the log's old end.
 * Returns the events deleted.
 */
export async function pruneStreamEvents(pool: Pool, before: Date, batch = 5000): Promise<number> {
  let deleted = 0;
  for (;;) {
    const { rows } = await pool.query<{ n: number }>(
      `WITH oldest AS (
         SELECT xid, id, created_at FROM stream_event ORDER BY xid, id LIMIT $2
       ), doomed AS (
         SELECT xid, id FROM oldest WHERE created_at < $1
       ), gone AS (
         DELETE FROM stream_event e USING doomed d WHERE e.xid = d.xid AND e.id = d.id RETURNING e.xid, e.id
       ), last AS (
         SELECT xid, id FROM gone ORDER BY xid DESC, id DESC LIMIT 1
       ), moved AS (
         INSERT INTO stream_horizon AS h (xid, id) SELECT xid, id FROM last
         ON CONFLICT (only_row) DO UPDATE SET xid = excluded.xid, id = excluded.id
           WHERE (excluded.xid, excluded.id) > (h.xid, h.id)
         RETURNING 1
       )
       SELECT count(*)::int AS n FROM gone`,
      [before, batch],
    );
    deleted += rows[0]!.n;
    if (rows[0]!.n < batch) return deleted;
  }
}
