import type { StreamEventType } from '@agentrace/schemas';
import type { Queryable } from './connection.ts';

/** The channel that wakes stream readers after a commit that wrote events (no payload: they read the table). */
export const STREAM_CHANNEL = 'agentrace_stream';

/**
 * A position in the event log: the writing transaction's commit number and the event's id (as decimal
 * text in a cursor). Events are delivered in (commit, id) order, which is commit order.
 */
export interface StreamCursor {
  commit: bigint;
  id: bigint;
}

/** After every event of commit `commit`: ids are bigints, so none is above this. */
export const END_OF_COMMIT = 9223372036854775807n;

export const cursorText = (c: StreamCursor): string => `${c.commit}-${c.id}`;

/** Parses `cursorText`'s form, or null for anything else. */
export function parseStreamCursor(text: string): StreamCursor | null {
  const match = /^(\d{1,19})-(\d{1,19})$/.exec(text.trim());
  if (!match) return null;
  const cursor = { commit: BigInt(match[1]!), id: BigInt(match[2]!) };
  return cursor.commit <= END_OF_COMMIT && cursor.id <= END_OF_COMMIT ? cursor : null;
}

export const compareCursors = (a: StreamCursor, b: StreamCursor): number =>
  a.commit !== b.commit ? (a.commit < b.commit ? -1 : 1) : a.id === b.id ? 0 : a.id < b.id ? -1 : 1;

/** An event to record: what changed, and what the stream's filters look at. */
export interface NewStreamEvent {
  tenantId: string;
  projectId: string;
  runId: string;
  traceId: Buffer | null;
  type: StreamEventType;
  objectId: string;
}

/** A recorded event, as readers see it. */
export interface StreamEvent {
  cursor: StreamCursor;
  tenantId: string;
  projectId: string;
  runId: string;
  /** Lowercase hex, as the API's filters give it. */
  traceId: string | null;
  type: StreamEventType;
  objectId: string;
}

/** The transaction's commit record, numbered at its commit (see migration 009); once per transaction. */
const COMMIT_RECORD = {
  name: 'stream-commit-record',
  text: 'INSERT INTO stream_commit DEFAULT VALUES ON CONFLICT (xid) DO NOTHING',
};

/**
 * Records events in the caller's transaction, and asks for a wake-up of the stream's readers at its
 * commit (PostgreSQL folds the NOTIFYs of one transaction into one).
 * @example await recordStreamEvents(tx, [{ tenantId, projectId, runId, traceId, type: 'run.updated', objectId: runId }])
 */
export async function recordStreamEvents(db: Queryable, events: readonly NewStreamEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db.query(COMMIT_RECORD);
  await db.query({
    name: 'stream-record-events',
    text: `WITH e AS (
       INSERT INTO stream_event (tenant_id, project_id, run_id, trace_id, type, object_id)
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::bytea[], $5::text[], $6::uuid[])
       RETURNING 1
     )
     SELECT pg_notify('${STREAM_CHANNEL}', '') FROM (SELECT 1 FROM e LIMIT 1) AS any_event`,
    values: [
      events.map((e) => e.tenantId),
      events.map((e) => e.projectId),
      events.map((e) => e.runId),
      events.map((e) => e.traceId),
      events.map((e) => e.type),
      events.map((e) => e.objectId),
    ],
  });
}

/**
 * Records that an approval was created or changed, in the caller's transaction, with the trace of its run
 * (so that a subscriber to the trace sees it), and asks for a wake-up at commit.
 */
export async function recordApprovalEvent(
  db: Queryable,
  a: { tenantId: string; projectId: string; runId: string; approvalId: string },
): Promise<void> {
  await db.query(COMMIT_RECORD);
  await db.query(
    `WITH e AS (
       INSERT INTO stream_event (tenant_id, project_id, run_id, trace_id, type, object_id)
       VALUES ($1, $2, $3, (SELECT trace_id FROM run WHERE tenant_id = $1 AND id = $3), 'approval.updated', $4)
       RETURNING 1
     )
     SELECT pg_notify('${STREAM_CHANNEL}', '') FROM e`,
    [a.tenantId, a.projectId, a.runId, a.approvalId],
  );
}
