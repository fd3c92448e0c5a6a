import type { Invocation, InvocationFilters, InvocationListQuery } from '@agentrace/schemas';
import type { Queryable } from './connection.ts';
import { INVOCATION_COLUMNS, type InvocationRow, toInvocation } from './row-mappers.ts';
import { type Page, pageOf, type TimeKey } from './run-queries.ts';
import { Conditions } from './sql-builder.ts';

/** The AND-ed invocation filters of API.md, shared by the list and (later) the stats. */
export function invocationConditions(tenantId: string, filters: InvocationFilters): Conditions {
  const where = new Conditions()
    .add('i.tenant_id = $', tenantId)
    .addIf(filters.kind, 'i.kind = $')
    .addIf(filters.target, 'i.target = $')
    .addIf(filters.task_type, 'i.task_type = $')
    .addIf(filters.provider, 'i.provider = $')
    .addIf(filters.model, 'i.model = $')
    .addIf(filters.tool, 'i.tool_name = $')
    .addIf(filters.artifact_id, 'i.artifact_id = $')
    .addIf(filters.invoker, 'i.invoker = $')
    .addIf(filters.success, 'i.success = $')
    .addIf(filters.error_type, 'i.error_type = $')
    .addIf(filters.run_id, 'i.run_id = $')
    .addIf(filters.since, 'i.started_at >= $')
    .addIf(filters.until, 'i.started_at < $');
  // Implied by an error type (a CHECK of migration 011), and said so that the partial index of failures
  // serves it: a rare error type otherwise walks every call of the tenant, newest first.
  return filters.error_type !== undefined && filters.success === undefined
    ? where.add('NOT i.success')
    : where;
}

/**
 * Lists a tenant's invocations newest first.
 * @example await listInvocations(pool, tenantId, InvocationListQuery.parse({ tool: 'search' }), null)
 */
export async function listInvocations(
  pool: Queryable,
  tenantId: string,
  query: InvocationListQuery,
  after: TimeKey | null,
): Promise<Page<Invocation>> {
  const where = invocationConditions(tenantId, query);
  if (after) where.add('(i.started_at, i.id) < ($::timestamptz, $::uuid)', after.at, after.id);
  const limit = where.bind(query.limit + 1);
  const { rows } = await pool.query<InvocationRow>(
    `SELECT ${INVOCATION_COLUMNS} FROM invocation i WHERE ${where.toSql()}
     ORDER BY i.started_at DESC, i.id DESC LIMIT ${limit}`,
    where.params,
  );
  return pageOf(rows, query.limit, toInvocation, (row) => ({ at: row.started_at, id: row.id }));
}
