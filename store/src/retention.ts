import type { Pool } from 'pg';
import { appendAudit } from './audit-log.ts';
import { inTransaction } from './transaction.ts';

const DAY_MS = 86_400_000;

export interface RetentionOptions {
  /** Audit rows younger than this are never deleted. */
  auditRetentionDays: number;
  /** Runs deleted per transaction (and per tombstone). */
  batchRuns?: number;
  now?: Date;
}

export interface RetentionOutcome {
  runs: number;
  steps: number;
  invocations: number;
  auditRows: number;
}

interface DeletedRun {
  run_id: string;
  started_at: string;
  steps: number;
  invocations: number;
  payload_digest: string | null;
}

/**
 * One retention pass, as the owner across tenants: deletes the runs (with their steps and invocations)
 * of each project with a retention that started and last changed before its cutoff, in batches, each
 * batch with a tombstone in the audit log in the same transaction; then the audit rows older than the
 * audit retention. Safe to run from several processes at once (locked rows are skipped).
 * @example await applyRetention(pool, { auditRetentionDays: 365 })
 */
export async function applyRetention(pool: Pool, options: RetentionOptions): Promise<RetentionOutcome> {
  const now = options.now ?? new Date();
  const batchRuns = options.batchRuns ?? 200;
  const outcome: RetentionOutcome = { runs: 0, steps: 0, invocations: 0, auditRows: 0 };
  const { rows: projects } = await pool.query<{ tenant_id: string; id: string; retention_days: number }>(
    'SELECT tenant_id, id, retention_days FROM project WHERE retention_days IS NOT NULL',
  );
  for (const project of projects) {
    const cutoff = new Date(now.getTime() - project.retention_days * DAY_MS);
    for (;;) {
      const deleted = await deleteExpiredBatch(pool, project, cutoff, batchRuns);
      outcome.runs += deleted.length;
      for (const run of deleted) {
        outcome.steps += run.steps;
        outcome.invocations += run.invocations;
      }
      if (deleted.length < batchRuns) break;
    }
  }
  outcome.auditRows = await pruneAuditLog(
    pool,
    new Date(now.getTime() - options.auditRetentionDays * DAY_MS),
  );
  return outcome;
}

async function deleteExpiredBatch(
  pool: Pool,
  project: { tenant_id: string; id: string; retention_days: number },
  cutoff: Date,
  batchRuns: number,
): Promise<DeletedRun[]> {
  return inTransaction(pool, async (tx) => {
    // Run rows are locked first, as the ingest writer does, so the two cannot deadlock.
    const { rows } = await tx.query<DeletedRun>(
      `WITH doomed AS (
         SELECT id FROM run
         WHERE tenant_id = $1 AND project_id = $2 AND started_at < $3 AND updated_at < $3
         ORDER BY started_at LIMIT $4 FOR UPDATE SKIP LOCKED
       ), steps AS (
         DELETE FROM step s USING doomed d WHERE s.tenant_id = $1 AND s.run_id = d.id
         RETURNING s.run_id, s.seq, s.payload_hash
       ), invocations AS (
         DELETE FROM invocation i USING doomed d WHERE i.tenant_id = $1 AND i.run_id = d.id RETURNING i.run_id
       ), runs AS (
         DELETE FROM run r USING doomed d WHERE r.tenant_id = $1 AND r.id = d.id RETURNING r.id, r.started_at
       ), step_totals AS (
         SELECT run_id, count(*)::int AS n,
           'sha256:' || encode(sha256(convert_to(string_agg(payload_hash, ',' ORDER BY seq), 'UTF8')), 'hex') AS digest
         FROM steps GROUP BY run_id
       ), invocation_totals AS (
         SELECT run_id, count(*)::int AS n FROM invocations GROUP BY run_id
       )
       SELECT r.id AS run_id, to_char(r.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS started_at,
         coalesce(st.n, 0) AS steps, coalesce(it.n, 0) AS invocations, st.digest AS payload_digest
       FROM runs r LEFT JOIN step_totals st ON st.run_id = r.id LEFT JOIN invocation_totals it ON it.run_id = r.id
       ORDER BY r.started_at, r.id`,
      [project.tenant_id, project.id, cutoff, batchRuns],
    );
    if (rows.length > 0) {
      await appendAudit(tx, {
        tenantId: project.tenant_id,
        actorKeyId: null,
        action: 'retention.runs_deleted',
        target: project.id,
        details: { retention_days: project.retention_days, cutoff: cutoff.toISOString(), runs: rows },
      });
    }
    return rows;
  });
}

/**
 * Deletes, per tenant, the oldest audit rows while they are older than `before` (a prefix of the chain,
 * so no row younger than the audit retention goes, even if clocks disagreed), records where the chain
 * now starts in its head, and audits the pruning. Returns the rows deleted.
 */
async function pruneAuditLog(pool: Pool, before: Date): Promise<number> {
  // The oldest remaining row of each tenant tells whether there is anything to prune.
  const { rows: tenants } = await pool.query<{ tenant_id: string }>(
    `SELECT h.tenant_id FROM audit_head h JOIN audit_log a ON a.tenant_id = h.tenant_id AND a.seq = h.pruned_through_seq + 1
     WHERE a.ts < $1`,
    [before],
  );
  let pruned = 0;
  for (const { tenant_id: tenantId } of tenants) {
    pruned += await inTransaction(pool, async (tx) => {
      const { rows } = await tx.query<{ seq: number; hash: string }>(
        `WITH head AS (SELECT pruned_through_seq FROM audit_head WHERE tenant_id = $1 FOR UPDATE),
         keep AS (SELECT min(seq) AS seq FROM audit_log WHERE tenant_id = $1 AND ts >= $2)
         DELETE FROM audit_log a USING head, keep
         WHERE a.tenant_id = $1 AND a.seq > head.pruned_through_seq AND (keep.seq IS NULL OR a.seq < keep.seq)
         RETURNING a.seq, a.hash`,
        [tenantId, before],
      );
      if (rows.length === 0) return 0;
      const last = rows.reduce((a, b) => (b.seq > a.seq ? b : a));
      await tx.query('UPDATE audit_head SET pruned_through_seq = $2, pruned_hash = $3 WHERE tenant_id = $1', [
        tenantId,
        last.seq,
        last.hash,
      ]);
      await appendAudit(tx, {
        tenantId,
        actorKeyId: null,
        action: 'audit.pruned',
        target: null,
        details: {
          before: before.toISOString(),
          through_seq: last.seq,
          through_hash: last.hash,
          rows: rows.length,
        },
      });
      return rows.length;
    });
  }
  return pruned;
}
