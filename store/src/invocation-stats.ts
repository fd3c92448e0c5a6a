import type { InvocationFilters, InvocationStatsRow, StatsGroupBy } from '@agentrace/schemas';
import type { Queryable } from './connection.ts';
import { invocationConditions } from './invocation-queries.ts';
import { Conditions } from './sql-builder.ts';
import { mergeStatsPartials, type StatsPartial } from './stats-partials.ts';

const GROUP_COLUMN: Record<StatsGroupBy, string> = {
  artifact: 'i.artifact_id',
  tool: 'i.tool_name',
  model: 'i.model',
  provider: 'i.provider',
  invoker: 'i.invoker',
  task_type: 'i.task_type',
};

/** A call's UTC day, and the instant a UTC day (a date parameter) starts. */
const UTC_DAY = `(i.started_at AT TIME ZONE 'UTC')::date`;
const dayStart = (placeholder: string) => `(${placeholder}::date::timestamp AT TIME ZONE 'UTC')`;

/**
 * Invocation statistics per value of `groupBy`, over the invocations that match `filters` and have that
 * value (grouping by tool leaves model calls out): counts, success rate, latency average and percentiles
 * (exact, interpolated as percentile_cont), failure types, tokens and cost (null when nothing was priced).
 * Busiest first. Without filters other than since/until, the UTC days with calls before yesterday that
 * the range covers whole come from stats_day (migration 013), computed on first use and after a change.
 * @example await invocationStats(db, tenantId, 'tool', { success: false })
 */
export async function invocationStats(
  db: Queryable,
  tenantId: string,
  groupBy: StatsGroupBy,
  filters: InvocationFilters,
): Promise<InvocationStatsRow[]> {
  const key = GROUP_COLUMN[groupBy];
  const calls = invocationConditions(tenantId, filters).add(`${key} IS NOT NULL`);
  const { since, until, ...others } = filters;
  const days = Object.values(others).every((v) => v === undefined)
    ? await keptDays(db, tenantId, filters)
    : [];
  if (days.length === 0) return mergeStatsPartials(await statsPartials(db, key, calls, 'NULL'));
  const first = days[0]!;
  const last = days[days.length - 1]!;
  // Days before the tenant's first call no longer have calls (retention took them): nothing reads them.
  if (since === undefined) {
    await db.query('DELETE FROM stats_day WHERE tenant_id = $1 AND group_by = $2 AND day < $3', [
      tenantId,
      groupBy,
      first,
    ]);
  }
  await refreshStaleDays(db, tenantId, groupBy, days);
  const { rows: kept } = await db.query<StatsPartial>(
    `SELECT stats, keys, latencies FROM stats_day
     WHERE tenant_id = $1 AND group_by = $2 AND day = ANY($3::date[])`,
    [tenantId, groupBy, days],
  );
  // The calls of the range outside those days: partial days at its ends, yesterday and today. (Between
  // the first and the last, every day with calls is one of them.)
  calls.add(
    `(i.started_at < ${dayStart('$')} OR i.started_at >= ${dayStart('$')} + interval '1 day')`,
    first,
    last,
  );
  return mergeStatsPartials([...kept, ...(await statsPartials(db, key, calls, 'NULL'))]);
}

/**
 * The UTC days, as YYYY-MM-DD in order, that stats_day may serve for a since/until range: the days with
 * calls among those the range covers whole, up to the day before yesterday (later ones still change).
 * Found by skipping from each day with calls to the next through the time index, one probe per day, so
 * that a lone call stamped decades ago (a client with a broken clock) costs one day, not thousands.
 */
async function keptDays(
  db: Queryable,
  tenantId: string,
  range: Pick<InvocationFilters, 'since' | 'until'>,
): Promise<string[]> {
  const { rows } = await db.query<{ day: string }>(
    `WITH RECURSIVE bounds AS (
       SELECT ((($2::timestamptz AT TIME ZONE 'UTC') + interval '1 day' - interval '1 microsecond')::date::timestamp
                 AT TIME ZONE 'UTC') AS since,
              (least(($3::timestamptz AT TIME ZONE 'UTC')::date, (statement_timestamp() AT TIME ZONE 'UTC')::date - 1)
                 ::timestamp AT TIME ZONE 'UTC') AS until
     ), day_with_calls(day) AS (
       SELECT (SELECT (min(i.started_at) AT TIME ZONE 'UTC')::date FROM invocation i
               WHERE i.tenant_id = $1 AND i.started_at >= coalesce(b.since, '-infinity') AND i.started_at < b.until)
       FROM bounds b
       UNION ALL
       SELECT (SELECT (min(i.started_at) AT TIME ZONE 'UTC')::date FROM invocation i
               WHERE i.tenant_id = $1 AND i.started_at >= ((d.day + 1)::timestamp AT TIME ZONE 'UTC')
                 AND i.started_at < b.until)
       FROM day_with_calls d, bounds b WHERE d.day IS NOT NULL
     )
     SELECT day::text AS day FROM day_with_calls WHERE day IS NOT NULL ORDER BY 1`,
    [tenantId, range.since ?? null, range.until ?? null],
  );
  return rows.map((r) => r.day);
}

/** Computes again the days of `days` that are not kept, or kept at a version older than their current one. */
async function refreshStaleDays(
  db: Queryable,
  tenantId: string,
  groupBy: StatsGroupBy,
  days: readonly string[],
) {
  const { rows } = await db.query<{ day: string }>(
    `SELECT d.day::text AS day FROM unnest($3::date[]) AS d(day)
     LEFT JOIN stats_day s ON s.tenant_id = $1 AND s.group_by = $2 AND s.day = d.day
     LEFT JOIN stats_day_version v ON v.tenant_id = $1 AND v.day = d.day
     WHERE s.version IS DISTINCT FROM coalesce(v.version, 0) ORDER BY 1`,
    [tenantId, groupBy, days],
  );
  for (const run of consecutiveRuns(rows.map((r) => r.day))) await fillDays(db, tenantId, groupBy, run);
}

/**
 * Stores the stats of every day of `run` (consecutive days), with the version each had in the same
 * snapshot as the calls read, so that a change committed meanwhile leaves the day stale, not wrong.
 */
async function fillDays(db: Queryable, tenantId: string, groupBy: StatsGroupBy, run: string[]) {
  const calls = new Conditions()
    .add('i.tenant_id = $', tenantId)
    .add(`i.started_at >= ${dayStart('$')}`, run[0])
    .add(`i.started_at < ${dayStart('$')} + interval '1 day'`, run[run.length - 1])
    .add(`${GROUP_COLUMN[groupBy]} IS NOT NULL`);
  const days = calls.bind(run);
  const group = calls.bind(groupBy);
  await db.query(
    `WITH fresh AS (${partialsSql(GROUP_COLUMN[groupBy], calls, UTC_DAY)})
     INSERT INTO stats_day AS s (tenant_id, group_by, day, version, stats, keys, latencies)
     SELECT $1, ${group}, d.day, coalesce(v.version, 0), coalesce(f.stats, '{}'), coalesce(f.keys, '{}'),
            coalesce(f.latencies, ''::bytea)
     FROM unnest(${days}::date[]) AS d(day)
     LEFT JOIN fresh f ON f.day = d.day
     LEFT JOIN stats_day_version v ON v.tenant_id = $1 AND v.day = d.day
     ORDER BY d.day
     ON CONFLICT (tenant_id, group_by, day) DO UPDATE
     SET version = EXCLUDED.version, stats = EXCLUDED.stats, keys = EXCLUDED.keys,
         latencies = EXCLUDED.latencies
     WHERE s.version <= EXCLUDED.version`,
    calls.params,
  );
}

async function statsPartials(db: Queryable, key: string, calls: Conditions, day: string) {
  const { rows } = await db.query<StatsPartial>(partialsSql(key, calls, day), calls.params);
  return rows;
}

/**
 * The stats of the calls `calls` selects, by `key`, one row (a StatsPartial) per value of `day`.
 * Grouped by failure type first, so that failure types are counted in the same pass.
 */
function partialsSql(key: string, calls: Conditions, day: string): string {
  return `WITH per_type AS (
      SELECT ${day} AS day, ${key} AS key,
             CASE WHEN i.success THEN NULL ELSE coalesce(i.error_type, 'error') END AS failure,
             count(*) AS total, count(i.latency_ms) AS latency_n, sum(i.latency_ms) AS latency_sum,
             sum(i.input_tokens) AS input_tokens, sum(i.output_tokens) AS output_tokens, sum(i.cost_usd) AS cost_usd,
             string_agg(float8send(i.latency_ms), ''::bytea) AS latencies
      FROM invocation i WHERE ${calls.toSql()}
      GROUP BY 1, 2, 3
    ), per_key AS (
      SELECT day, key, sum(total) AS total, coalesce(sum(total) FILTER (WHERE failure IS NULL), 0) AS successful,
             sum(latency_n) AS latency_n, sum(latency_sum) AS latency_sum,
             coalesce(jsonb_object_agg(failure, total) FILTER (WHERE failure IS NOT NULL), '{}') AS failure_types,
             coalesce(sum(input_tokens), 0) AS input_tokens, coalesce(sum(output_tokens), 0) AS output_tokens,
             sum(cost_usd) AS cost_usd, string_agg(latencies, ''::bytea) AS latencies
      FROM per_type GROUP BY 1, 2
    )
    SELECT day,
           jsonb_object_agg(key, jsonb_build_object('total', total, 'successful', successful, 'latency_n', latency_n,
             'latency_sum', latency_sum, 'failure_types', failure_types, 'input_tokens', input_tokens,
             'output_tokens', output_tokens, 'cost_usd', cost_usd)) AS stats,
           array_agg(key ORDER BY key) AS keys,
           coalesce(string_agg(latencies, ''::bytea ORDER BY key), ''::bytea) AS latencies
    FROM per_key GROUP BY 1`;
}

/** Sorted YYYY-MM-DD days split where one is not the day after the one before. */
function consecutiveRuns(days: readonly string[]): string[][] {
  const runs: string[][] = [];
  for (const day of days) {
    const run = runs[runs.length - 1];
    if (run && Date.parse(day) - Date.parse(run[run.length - 1]!) === 86_400_000) run.push(day);
    else runs.push([day]);
  }
  return runs;
}

/**
 * Marks the kept stats of the closed UTC days of `calls` stale (stats_day_version), in the transaction
 * that inserts them: for the ingest writer, whose calls are nearly always of today, so it costs a
 * statement only for a batch holding late ones. Updates and deletes are bumped by triggers.
 * @example await bumpLateCallDays(client, insertedRecords)
 */
export async function bumpLateCallDays(
  db: Queryable,
  calls: readonly { tenantId: string; ts: string }[],
): Promise<void> {
  const today = new Date().toISOString().slice(0, 10);
  // `ts` is RFC 3339 UTC, so its first ten characters are its UTC day.
  const late = calls.filter((c) => c.ts.slice(0, 10) < today);
  if (late.length === 0) return;
  await db.query('SELECT stats_bump_days($1::uuid[], $2::date[])', [
    late.map((c) => c.tenantId),
    late.map((c) => c.ts.slice(0, 10)),
  ]);
}
