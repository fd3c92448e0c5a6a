import type { Run } from '@agentrace/schemas';
import type { Pool, PoolClient } from 'pg';
import { RUN_COLUMNS, type RunRow, toRun } from './row-mappers.ts';
import { recordStreamEvents } from './stream-events.ts';
import { inTransaction } from './transaction.ts';

/** A run as `POST /v1/runs` declares it; `runId` is derived from the trace when there is one. */
export interface RunDeclaration {
  tenantId: string;
  projectId: string;
  runId: string;
  name: string;
  tags: Record<string, string>;
  parentRunId: string | null;
  traceId: Buffer | null;
  /** RFC 3339. */
  startedAt: string;
}

/**
 * - `created`: a new run.
 * - `adopted`: the run was already there from spans of its trace; it is now declared (name, tags, start).
 * - `existing`: it had been declared with the same name before (a retried declaration), left as it was.
 * - `conflict`: declared before under another name, or a run of another project of the tenant.
 */
export type DeclareOutcome = { outcome: 'created' | 'adopted' | 'existing' | 'conflict'; run: Run };

type DeclaredRunRow = RunRow & { declared: boolean };

/**
 * Declares a run over native REST. Idempotent for a run with a trace id (its id is derived from the
 * trace), and it adopts the run that spans of the trace may have created already: every statement is a
 * single atomic upsert or update, so racing span writers and retried declarations agree. A created or
 * adopted run is announced on the live stream at commit.
 * @example await declareRun(pool, { tenantId, projectId, runId, name: 'nightly', tags: {}, parentRunId: null, traceId: null, startedAt })
 */
export async function declareRun(pool: Pool, d: RunDeclaration): Promise<DeclareOutcome> {
  return inTransaction(pool, async (tx) => {
    const declared = await declareInTransaction(tx, d);
    if (declared.outcome === 'created' || declared.outcome === 'adopted') await recordRunEvent(tx, d.tenantId, declared.run);
    return declared;
  });
}

/** The live stream's `run.updated` for `run`, published with the caller's transaction. */
const recordRunEvent = (tx: PoolClient, tenantId: string, run: Run) =>
  recordStreamEvents(tx, [
    {
      tenantId,
      projectId: run.project_id,
      runId: run.run_id,
      traceId: run.trace_id === null ? null : Buffer.from(run.trace_id, 'hex'),
      type: 'run.updated',
      objectId: run.run_id,
    },
  ]);

async function declareInTransaction(tx: PoolClient, d: RunDeclaration): Promise<DeclareOutcome> {
  const inserted = await tx.query<RunRow>(
    `INSERT INTO run AS r (tenant_id, id, project_id, name, status, started_at, trace_id, parent_run_id, tags, declared)
     VALUES ($1, $2, $3, $4, 'running', $5, $6, $7, $8, true)
     ON CONFLICT (tenant_id, id) DO NOTHING
     RETURNING ${RUN_COLUMNS}`,
    [d.tenantId, d.runId, d.projectId, d.name, d.startedAt, d.traceId, d.parentRunId, JSON.stringify(d.tags)],
  );
  if (inserted.rows[0]) return { outcome: 'created', run: toRun(inserted.rows[0]) };

  // A run started by spans starts at its earliest step; once its root has ended it, its times stay.
  const adopted = await tx.query<RunRow>(
    `UPDATE run r SET declared = true, name = $4, tags = r.tags || $5::jsonb,
       parent_run_id = coalesce(r.parent_run_id, $6),
       started_at = CASE WHEN r.has_root THEN r.started_at ELSE least(r.started_at, $7::timestamptz) END,
       updated_at = clock_timestamp()
     WHERE r.tenant_id = $1 AND r.id = $2 AND r.project_id = $3 AND NOT r.declared
     RETURNING ${RUN_COLUMNS}`,
    [d.tenantId, d.runId, d.projectId, d.name, JSON.stringify(d.tags), d.parentRunId, d.startedAt],
  );
  if (adopted.rows[0]) return { outcome: 'adopted', run: toRun(adopted.rows[0]) };

  const { rows } = await tx.query<DeclaredRunRow>(
    `SELECT ${RUN_COLUMNS}, r.declared FROM run r WHERE r.tenant_id = $1 AND r.id = $2`,
    [d.tenantId, d.runId],
  );
  const row = rows[0]!;
  const retried = row.declared && row.project_id === d.projectId && row.name === d.name;
  return { outcome: retried ? 'existing' : 'conflict', run: toRun(row) };
}

export type FinishOutcome =
  | { ok: true; run: Run }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'before_start' }
  | { ok: false; reason: 'conflict'; run: Run };

/**
 * Ends a run as its root span would: status, finished_at (default now, never before the start) and
 * duration. Idempotent: finishing a run again with the status it has answers it unchanged.
 * @example await finishRun(pool, { tenantId, projectId, runId, status: 'succeeded', finishedAt: null })
 */
export async function finishRun(
  pool: Pool,
  f: { tenantId: string; projectId: string; runId: string; status: 'succeeded' | 'failed' | 'canceled'; finishedAt: string | null },
): Promise<FinishOutcome> {
  return inTransaction(pool, async (tx) => {
    const { outcome, changed } = await finishInTransaction(tx, f);
    if (changed && outcome.ok) await recordRunEvent(tx, f.tenantId, outcome.run);
    return outcome;
  });
}

async function finishInTransaction(
  tx: PoolClient,
  f: Parameters<typeof finishRun>[1],
): Promise<{ outcome: FinishOutcome; changed: boolean }> {
  const finished = await tx.query<RunRow>(
    `UPDATE run r SET status = $4, has_root = true, updated_at = clock_timestamp(),
       finished_at = coalesce($5::timestamptz, greatest(now(), r.started_at)),
       duration_ms = extract(epoch FROM coalesce($5::timestamptz, greatest(now(), r.started_at)) - r.started_at) * 1000
     WHERE r.tenant_id = $1 AND r.id = $2 AND r.project_id = $3 AND r.status = 'running'
       AND ($5::timestamptz IS NULL OR $5::timestamptz >= r.started_at)
     RETURNING ${RUN_COLUMNS}`,
    [f.tenantId, f.runId, f.projectId, f.status, f.finishedAt],
  );
  if (finished.rows[0]) return { outcome: { ok: true, run: toRun(finished.rows[0]) }, changed: true };

  const { rows } = await tx.query<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM run r WHERE r.tenant_id = $1 AND r.id = $2 AND r.project_id = $3`,
    [f.tenantId, f.runId, f.projectId],
  );
  const row = rows[0];
  if (!row) return { outcome: { ok: false, reason: 'not_found' }, changed: false };
  if (row.status === f.status) return { outcome: { ok: true, run: toRun(row) }, changed: false };
  if (row.status === 'running') return { outcome: { ok: false, reason: 'before_start' }, changed: false };
  return { outcome: { ok: false, reason: 'conflict', run: toRun(row) }, changed: false };
}

/** Which of `stepIds` the tenant already has in runs other than `runId` (client step ids are per tenant). */
export async function stepIdsOfOtherRuns(pool: Pool, tenantId: string, runId: string, stepIds: string[]): Promise<Set<string>> {
  if (stepIds.length === 0) return new Set();
  const { rows } = await pool.query<{ id: string }>(
    'SELECT id FROM step WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND run_id <> $3',
    [tenantId, stepIds, runId],
  );
  return new Set(rows.map((r) => r.id));
}
