import type { Run, RunListQuery } from '@agentrace/schemas';
import type { Queryable } from './connection.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { RUN_COLUMNS, type RunRow, toRun } from './row-mappers.ts';
import { Conditions } from './sql-builder.ts';
import { TIMESTAMP_TEXT } from './sql-fragments.ts';

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/** A position in a newest-first (started_at, id) ordering. */
export interface TimeKey {
  at: string;
  id: string;
}

/** Decodes a newest-first list cursor, or null when it is not one of ours. */
export function decodeTimeCursor(cursor: string): TimeKey | null {
  const value = decodeCursor(cursor);
  return value && typeof value.at === 'string' && typeof value.id === 'string' && !Number.isNaN(Date.parse(value.at))
    ? { at: value.at, id: value.id }
    : null;
}

/**
 * Lists a tenant's runs newest first, filtered (AND) by `query`, after `after` when paging.
 * @example await listRuns(pool, tenantId, RunListQuery.parse({ status: 'failed' }), null)
 */
export async function listRuns(
  pool: Queryable,
  tenantId: string,
  query: RunListQuery,
  after: TimeKey | null,
): Promise<Page<Run>> {
  const where = new Conditions().add('r.tenant_id = $', tenantId);
  where
    .addIf(query.project_id, 'r.project_id = $')
    .addIf(query.trace_id && Buffer.from(query.trace_id, 'hex'), 'r.trace_id = $')
    .addIf(query.status, 'r.status = $')
    .addIf(query.name, 'r.name = $')
    .addIf(query.agent, 'r.agent_name = $')
    .addIf(query.model, 'r.model_names @> ARRAY[$]::text[]')
    .addIf(query.session_id, 'r.session_id = $')
    .addIf(query.user_id, 'r.user_id = $')
    .addIf(query.since, 'r.started_at >= $')
    .addIf(query.until, 'r.started_at < $')
    .addIf(query.min_cost_usd, 'r.cost_usd >= $');
  if (query.has_error !== undefined) where.add(query.has_error ? 'r.error_count > 0' : 'r.error_count = 0');
  if (Object.keys(query.tags).length > 0) where.add('r.tags @> $::jsonb', JSON.stringify(query.tags));
  if (after) where.add('(r.started_at, r.id) < ($::timestamptz, $::uuid)', after.at, after.id);
  const limit = where.bind(query.limit + 1);
  const { rows } = await pool.query<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM run r WHERE ${where.toSql()} ORDER BY r.started_at DESC, r.id DESC LIMIT ${limit}`,
    where.params,
  );
  return pageOf(rows, query.limit, toRun, (row) => ({ at: row.started_at, id: row.id }));
}

/** One run of the tenant, or null when there is none with this id (for this tenant). */
export async function getRun(pool: Queryable, tenantId: string, runId: string): Promise<Run | null> {
  const { rows } = await pool.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM run r WHERE r.tenant_id = $1 AND r.id = $2`, [
    tenantId,
    runId,
  ]);
  return rows[0] ? toRun(rows[0]) : null;
}

/** Cuts the `limit + 1` rows fetched into a page and the cursor of its last row. */
export function pageOf<R, T>(rows: R[], limit: number, map: (row: R) => T, key: (row: R) => TimeKey): Page<T> {
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  const last = page[page.length - 1];
  return {
    data: page.map(map),
    next_cursor: more && last ? encodeCursor({ ...key(last) }) : null,
  };
}

/**
 * When the run last changed (new steps, a merge, a finish, a re-pricing), as exact text: a validator for
 * answers derived from the run and its steps, which change only together with it. Null when the tenant
 * has no such run.
 * @example await runVersion(db, tenantId, runId) // '2026-11-22T09:10:11.123456Z' | null
 */
export async function runVersion(db: Queryable, tenantId: string, runId: string): Promise<string | null> {
  const { rows } = await db.query<{ version: string }>(
    `SELECT ${TIMESTAMP_TEXT('r.updated_at')} AS version FROM run r WHERE r.tenant_id = $1 AND r.id = $2`,
    [tenantId, runId],
  );
  return rows[0]?.version ?? null;
}
