import type { Run, Step } from '@agentrace/schemas';
import QueryStream from 'pg-query-stream';
import type { Queryable } from './connection.ts';
import {
  RUN_COLUMNS,
  type RunRow,
  STEP_COLUMNS,
  STEP_PARENT_JOIN,
  type StepRow,
  toRun,
  toStep,
} from './row-mappers.ts';
import { Conditions } from './sql-builder.ts';
import { TIMESTAMP_TEXT } from './sql-fragments.ts';

// Rows fetched per round trip of a server-side cursor: memory stays at one batch, whatever the size.
const BATCH_ROWS = 200;

/** Which runs an export takes: started in [since, until), of one project when given. */
export interface RunExportFilter {
  since?: Date;
  until?: Date;
  projectId?: string;
}

/** A step with what its span had beyond the Step wire shape: needed to rebuild OTLP. */
export interface ExportStep extends Step {
  parent_span_id: string | null;
  /** Start and end as RFC 3339 with microseconds (Step's times have milliseconds). */
  start_time: string;
  end_time: string | null;
  resource: Record<string, unknown> | null;
  scope: { name?: string; version?: string; attributes?: Record<string, unknown> } | null;
}

function runConditions(tenantId: string, filter: RunExportFilter): Conditions {
  return new Conditions()
    .add('r.tenant_id = $', tenantId)
    .addIf(filter.since, 'r.started_at >= $')
    .addIf(filter.until, 'r.started_at < $')
    .addIf(filter.projectId, 'r.project_id = $');
}

/** How many runs `streamRuns` will yield (for a progress bar). */
export async function countRunsToExport(
  db: Queryable,
  tenantId: string,
  filter: RunExportFilter,
): Promise<number> {
  const where = runConditions(tenantId, filter);
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM run r WHERE ${where.toSql()}`,
    where.params,
  );
  return rows[0]!.n;
}

/**
 * The runs an export takes, oldest first, read through a server-side cursor (constant memory). The
 * connection is busy until the iteration ends: read each run's steps on another one.
 * @example for await (const run of streamRuns(db, tenantId, { since })) ...
 */
export async function* streamRuns(
  db: Queryable,
  tenantId: string,
  filter: RunExportFilter,
): AsyncGenerator<Run> {
  const where = runConditions(tenantId, filter);
  const stream = db.query(
    new QueryStream(
      `SELECT ${RUN_COLUMNS} FROM run r WHERE ${where.toSql()} ORDER BY r.started_at, r.id`,
      where.params,
      {
        batchSize: BATCH_ROWS,
      },
    ),
  );
  for await (const row of stream) yield toRun(row as RunRow);
}

/**
 * A run's steps in time order, with their span's parent, exact times, resource and scope, read through a
 * server-side cursor (constant memory). Of steps that start together a root comes first (a root span and
 * its first child often share a clock tick, and the child arrives first), then seq breaks ties.
 */
export async function* streamRunSteps(
  db: Queryable,
  tenantId: string,
  runId: string,
): AsyncGenerator<ExportStep> {
  const stream = db.query(
    new QueryStream(
      `SELECT ${STEP_COLUMNS}, encode(s.parent_span_id, 'hex') AS parent_span_hex, s.resource, s.scope,
              ${TIMESTAMP_TEXT('s.ts')} AS start_time, ${TIMESTAMP_TEXT('s.end_ts')} AS end_time
       FROM step s ${STEP_PARENT_JOIN} WHERE s.tenant_id = $1 AND s.run_id = $2
       ORDER BY s.ts, (s.parent_span_id IS NULL AND s.parent_step_id IS NULL) DESC, s.seq`,
      [tenantId, runId],
      { batchSize: BATCH_ROWS },
    ),
  );
  for await (const raw of stream) {
    const row = raw as StepRow &
      Pick<ExportStep, 'resource' | 'scope' | 'start_time' | 'end_time'> & { parent_span_hex: string | null };
    yield {
      ...toStep(row),
      parent_span_id: row.parent_span_hex,
      start_time: row.start_time,
      end_time: row.end_time,
      resource: row.resource,
      scope: row.scope,
    };
  }
}
