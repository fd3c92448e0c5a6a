import type { StreamEventType } from '@agentrace/schemas';
import type { Queryable } from './connection.ts';

/** The channel that wakes stream readers after a commit that wrote events (no payload: they read the table). */
export const STREAM_CHANNEL = 'agentrace_stream';

/**
 * A position in the event log: the writing transaction's commit number, the event row's id and, for a row
 * that names several steps (a run's steps of one commit), the step's place in it (0 for other rows).
 * Events are delivered in (commit, id, n) order, which is commit order.
 */
export interface StreamCursor {
  commit: bigint;
  id: bigint;
  n: number;
}

const MAX_BIGINT = 9223372036854775807n;
const MAX_INT = 2147483647;

/** After every event of commit `commit`. */
export const endOfCommit = (commit: bigint): StreamCursor => ({ commit, id: MAX_BIGINT, n: MAX_INT });

export const cursorText = (c: StreamCursor): string => `${c.commit}-${c.id}-${c.n}`;

/**
 * Parses `cursorText`'s form, or null for anything else. The two-part form of earlier versions
 * (`commit-id`, one event per row) names the same event as `commit-id-0`.
 */
export function parseStreamCursor(text: string): StreamCursor | null {
  const match = /^(\d{1,19})-(\d{1,19})(?:-(\d{1,10}))?$/.exec(text.trim());
  if (!match) return null;
  const cursor = { commit: BigInt(match[1]!), id: BigInt(match[2]!), n: Number(match[3] ?? 0) };
  return cursor.commit <= MAX_BIGINT && cursor.id <= MAX_BIGINT && cursor.n <= MAX_INT ? cursor : null;
}

export const compareCursors = (a: StreamCursor, b: StreamCursor): number =>
  a.commit !== b.commit ? (a.commit < b.commit ? -1 : 1) : a.id !== b.id ? (a.id < b.id ? -1 : 1) : a.n - b.n;

/** An event to record: what changed, and what the stream's filters look at. */
export type NewStreamEvent = NewObjectEvent | NewStepsEvent;

interface EventScope {
  tenantId: string;
  projectId: string;
  runId: string;
  traceId: Buffer | null;
}

/** One object changed: a run, an approval. */
export interface NewObjectEvent extends EventScope {
  type: StreamEventType;
  objectId: string;
}

/**
 * A run's steps that the transaction created, seq `firstSeq` on, contiguous: one `step.created` event
 * each, read back from the step table.
 */
export interface NewStepsEvent extends EventScope {
  type: 'step.created';
  firstSeq: number;
  stepCount: number;
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
       INSERT INTO stream_event (tenant_id, project_id, run_id, trace_id, type, object_id, first_seq, step_count)
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::bytea[], $5::text[], $6::uuid[],
                            $7::int[], $8::int[])
       RETURNING 1
     )
     SELECT pg_notify('${STREAM_CHANNEL}', '') FROM (SELECT 1 FROM e LIMIT 1) AS any_event`,
    values: [
      events.map((e) => e.tenantId),
      events.map((e) => e.projectId),
      events.map((e) => e.runId),
      events.map((e) => e.traceId),
      events.map((e) => e.type),
      events.map((e) => ('objectId' in e ? e.objectId : null)),
      events.map((e) => ('firstSeq' in e ? e.firstSeq : null)),
      events.map((e) => ('stepCount' in e ? e.stepCount : null)),
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
