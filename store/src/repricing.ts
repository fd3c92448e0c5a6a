import type { Queryable } from './connection.ts';
import type { CostRange } from './cost-report.ts';
import { TIMESTAMP_TEXT } from './sql-fragments.ts';
import { rollUpRunUsage } from './usage-rollup.ts';

/** A stored model call with what pricing it needs. */
export interface CallToPrice {
  id: string;
  model: string | null;
  /** RFC 3339 UTC with microseconds. */
  startedAt: string;
  inputTokens: number | null;
  outputTokens: number | null;
  cachedInputTokens: number | null;
  cacheWriteTokens: number | null;
  reasoningTokens: number | null;
  costUsd: number | null;
}

/** A position in the oldest-first order of a tenant's calls. */
export interface CallKey {
  startedAt: string;
  id: string;
}

/**
 * A tenant's model and embedding calls in [since, until) whose cost is ours to estimate (a provider-reported
 * cost is never re-priced), oldest first, after `after`, at most `limit`.
 */
export async function callsToReprice(
  db: Queryable,
  tenantId: string,
  range: CostRange,
  after: CallKey | null,
  limit: number,
): Promise<CallToPrice[]> {
  const { rows } = await db.query<CallToPrice>(
    `SELECT i.id, i.model, ${TIMESTAMP_TEXT('i.started_at')} AS "startedAt", i.input_tokens AS "inputTokens",
            i.output_tokens AS "outputTokens", i.cached_input_tokens AS "cachedInputTokens",
            i.cache_write_tokens AS "cacheWriteTokens", i.reasoning_tokens AS "reasoningTokens", i.cost_usd AS "costUsd"
     FROM invocation i
     WHERE i.tenant_id = $1 AND i.kind IN ('model', 'embedding') AND i.cost_source IS DISTINCT FROM 'reported'
       AND i.started_at >= coalesce($2::timestamptz, '-infinity') AND i.started_at < coalesce($3::timestamptz, 'infinity')
       AND (i.started_at, i.id) > (coalesce($4::timestamptz, '-infinity'), coalesce($5::uuid, '00000000-0000-0000-0000-000000000000'))
     ORDER BY i.started_at, i.id LIMIT $6`,
    [tenantId, range.since ?? null, range.until ?? null, after?.startedAt ?? null, after?.id ?? null, limit],
  );
  return rows;
}

/**
 * Stores new estimated costs of a tenant's calls (null: no longer priced) on the invocations and their
 * steps, then recomputes the totals of the runs whose cost changed. Returns how many calls changed and in
 * how many runs. Run it in a transaction, so that a run's total never disagrees with its calls.
 */
export async function storeEstimatedCosts(
  db: Queryable,
  tenantId: string,
  costs: readonly { id: string; costUsd: number | null }[],
): Promise<{ calls: number; runs: number }> {
  const { rows } = await db.query<{ run_id: string; calls: number }>(
    `WITH d AS (SELECT * FROM unnest($2::uuid[], $3::float8[]) AS d(id, cost_usd)),
     changed AS (
       UPDATE invocation i
       SET cost_usd = d.cost_usd, cost_source = CASE WHEN d.cost_usd IS NULL THEN NULL ELSE 'estimated' END
       FROM d WHERE i.tenant_id = $1 AND i.id = d.id AND i.cost_usd IS DISTINCT FROM d.cost_usd
       RETURNING i.run_id, i.step_id, i.cost_usd
     ), steps AS (
       UPDATE step s SET cost_usd = c.cost_usd FROM changed c WHERE s.tenant_id = $1 AND s.id = c.step_id
     )
     SELECT run_id, count(*)::int AS calls FROM changed GROUP BY run_id`,
    [tenantId, costs.map((c) => c.id), costs.map((c) => c.costUsd)],
  );
  if (rows.length > 0)
    await rollUpRunUsage(
      db,
      rows.map((r) => ({ tenantId, runId: r.run_id })),
    );
  return { calls: rows.reduce((n, r) => n + r.calls, 0), runs: rows.length };
}
