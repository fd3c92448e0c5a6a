import type { CostGroupBy, CostRow } from '@agentrace/schemas';
import type { Queryable } from './connection.ts';
import { Conditions } from './sql-builder.ts';
import { IS_COUNTED_MODEL_CALL } from './usage-rollup.ts';

const GROUP_KEY: Record<CostGroupBy, string> = {
  agent: 'i.invoker',
  model: 'i.model',
  provider: 'i.provider',
  project: 'i.project_id::text',
  day: `to_char(i.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
};

export interface CostRange {
  since?: Date;
  until?: Date;
}

/**
 * The tenant's model spend per `groupBy` over calls started in [since, until): the same leaf calls that
 * run totals count, so the groups add up to the runs' cost. Days in order, other groups costliest first.
 * @example await costReport(db, tenantId, 'model', { since: new Date('2026-01-01') })
 */
export async function costReport(
  db: Queryable,
  tenantId: string,
  groupBy: CostGroupBy,
  range: CostRange,
): Promise<CostRow[]> {
  const where = new Conditions()
    .add('i.tenant_id = $', tenantId)
    .addIf(range.since, 'i.started_at >= $')
    .addIf(range.until, 'i.started_at < $')
    .add(IS_COUNTED_MODEL_CALL('i'));
  const order = groupBy === 'day' ? '1' : 'sum(i.cost_usd) DESC NULLS LAST, 1';
  const { rows } = await db.query<CostRow>(
    `SELECT ${GROUP_KEY[groupBy]} AS key, sum(i.cost_usd) AS cost_usd,
            coalesce(sum(i.input_tokens), 0)::bigint AS input_tokens,
            coalesce(sum(i.output_tokens), 0)::bigint AS output_tokens,
            count(*)::int AS invocations, count(*) FILTER (WHERE i.cost_usd IS NULL)::int AS unpriced_invocations
     FROM invocation i WHERE ${where.toSql()}
     GROUP BY 1 ORDER BY ${order}`,
    where.params,
  );
  return rows;
}
