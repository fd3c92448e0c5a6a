import type { InvocationFilters, InvocationStatsRow, StatsGroupBy } from '@agentrace/schemas';
import type { Queryable } from './connection.ts';
import { invocationConditions } from './invocation-queries.ts';

const GROUP_COLUMN: Record<StatsGroupBy, string> = {
  artifact: 'i.artifact_id',
  tool: 'i.tool_name',
  model: 'i.model',
  provider: 'i.provider',
  invoker: 'i.invoker',
  task_type: 'i.task_type',
};

/**
 * Invocation statistics per value of `groupBy`, over the invocations that match `filters` and have that
 * value (grouping by tool leaves model calls out): counts, success rate, latency average and percentiles
 * (interpolated, as percentile_cont), failure types, tokens and cost (null when nothing was priced).
 * Busiest first.
 * @example await invocationStats(db, tenantId, 'tool', { success: false })
 */
export async function invocationStats(
  db: Queryable,
  tenantId: string,
  groupBy: StatsGroupBy,
  filters: InvocationFilters,
): Promise<InvocationStatsRow[]> {
  const key = GROUP_COLUMN[groupBy];
  const where = invocationConditions(tenantId, filters).add(`${key} IS NOT NULL`);
  const { rows } = await db.query<InvocationStatsRow & { percentiles: (number | null)[] | null }>(
    `SELECT ${key} AS key,
            count(*)::int AS total_invocations,
            count(*) FILTER (WHERE i.success)::int AS successful,
            count(*) FILTER (WHERE NOT i.success)::int AS failed,
            avg(i.latency_ms) AS avg_duration_ms,
            percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY i.latency_ms) AS percentiles,
            -- The failures' types, counted from the group's own rows (no second pass over the table).
            coalesce((SELECT jsonb_object_agg(t.type, t.n) FROM (
                        SELECT type, count(*)::int AS n
                        FROM unnest(array_agg(coalesce(i.error_type, 'error')) FILTER (WHERE NOT i.success)) AS type
                        GROUP BY type) t), '{}') AS failure_types,
            coalesce(sum(i.input_tokens), 0)::bigint AS input_tokens,
            coalesce(sum(i.output_tokens), 0)::bigint AS output_tokens,
            sum(i.cost_usd) AS cost_usd
     FROM invocation i WHERE ${where.toSql()}
     GROUP BY 1 ORDER BY 2 DESC, 1`,
    where.params,
  );
  return rows.map((row) => ({
    key: row.key,
    total_invocations: row.total_invocations,
    successful: row.successful,
    failed: row.failed,
    success_rate: row.successful / row.total_invocations,
    avg_duration_ms: row.avg_duration_ms,
    p50_ms: row.percentiles?.[0] ?? null,
    p95_ms: row.percentiles?.[1] ?? null,
    p99_ms: row.percentiles?.[2] ?? null,
    failure_types: row.failure_types,
    input_tokens: row.input_tokens,
    output_tokens: row.output_tokens,
    cost_usd: row.cost_usd,
  }));
}
