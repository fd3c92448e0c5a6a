import { randomBytes, randomUUID } from 'node:crypto';
import type { InvocationFilters, InvocationStatsRow, StatsGroupBy } from '@agentrace/schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSteps } from './ingest-writer.ts';
import { invocationStats } from './invocation-stats.ts';
import { storeEstimatedCosts } from './repricing.ts';
import { createTenant, type NewTenant } from './tenancy.ts';
import { createTestDatabase, type TestDatabase } from './testing/test-database.ts';
import { stepRecord } from './testing/step-records.ts';
import { withTenant } from './transaction.ts';

let db: TestDatabase;
let tenant: NewTenant;
let other: NewTenant;
const DAY_MS = 86_400_000;
const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
/** An instant `days` UTC days before today's midnight, plus `ms`. */
const at = (days: number, ms = 0) => new Date(today - days * DAY_MS + ms).toISOString().replace('Z', '000Z');

const TOOLS = ['search', 'fetch', 'sql'];

/** Tool and model calls at `instants`, with latencies and outcomes from a fixed sequence. */
function calls(t: NewTenant, instants: string[], seed: number) {
  return instants.map((ts, i) => {
    const n = seed + i;
    const failed = n % 7 === 0;
    const model = n % 4 === 0;
    return stepRecord({
      tenantId: t.tenantId,
      projectId: t.projectId,
      runId: randomUUID(),
      traceId: randomBytes(16),
      ts,
      type: model ? 'llm' : 'tool',
      invocation: model
        ? {
            kind: 'model',
            target: 'gpt-4o',
            model: 'gpt-4o',
            provider: 'openai',
            latencyMs: 100 + (n % 13) * 7.25,
            inputTokens: 10 + n,
            outputTokens: n % 5,
            costUsd: n % 3 === 0 ? null : 0.001 * n,
          }
        : {
            kind: 'tool',
            target: TOOLS[n % 3]!,
            toolName: TOOLS[n % 3]!,
            invoker: n % 2 ? 'planner' : 'coder',
            success: !failed,
            errorType: failed ? (n % 2 ? 'timeout' : null) : null,
            latencyMs: n % 11 === 0 ? null : ((n * 37) % 101) + 0.5,
          },
    });
  });
}

/** The answer straight from every matching call, by PostgreSQL's own aggregates: what stats must equal. */
async function oracle(groupBy: StatsGroupBy, t: NewTenant, range: { since?: string; until?: string } = {}) {
  const column = { tool: 'tool_name', model: 'model', invoker: 'invoker' }[groupBy as 'tool'];
  const { rows } = await db.pool.query(
    `SELECT ${column} AS key, count(*)::int AS total_invocations, count(*) FILTER (WHERE success)::int AS successful,
            avg(latency_ms) AS avg, percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY latency_ms) AS p,
            coalesce(sum(input_tokens), 0)::int AS input_tokens, sum(cost_usd) AS cost_usd,
            coalesce(jsonb_object_agg(coalesce(error_type, 'error'), 1) FILTER (WHERE NOT success), '{}') AS kinds
     FROM invocation WHERE tenant_id = $1 AND ${column} IS NOT NULL
       AND started_at >= coalesce($2::timestamptz, '-infinity') AND started_at < coalesce($3::timestamptz, 'infinity')
     GROUP BY 1 ORDER BY 2 DESC, 1`,
    [t.tenantId, range.since ?? null, range.until ?? null],
  );
  return rows;
}

function expectSame(actual: InvocationStatsRow[], expected: Awaited<ReturnType<typeof oracle>>) {
  expect(actual.map((r) => [r.key, r.total_invocations, r.successful, r.input_tokens])).toEqual(
    expected.map((r) => [r.key, r.total_invocations, r.successful, r.input_tokens]),
  );
  actual.forEach((row, i) => {
    const want = expected[i]!;
    for (const [got, exact] of [
      [row.avg_duration_ms, want.avg],
      // percentile_cont gives a null array when no call has a latency.
      [row.p50_ms, want.p?.[0] ?? null],
      [row.p95_ms, want.p?.[1] ?? null],
      [row.p99_ms, want.p?.[2] ?? null],
      [row.cost_usd, want.cost_usd],
    ]) {
      if (exact === null) expect(got).toBeNull();
      else expect(got).toBeCloseTo(exact, 9);
    }
    expect(Object.keys(row.failure_types).sort()).toEqual(Object.keys(want.kinds).sort());
  });
}

const stats = (t: NewTenant, groupBy: StatsGroupBy, filters: InvocationFilters = {}) =>
  withTenant(db.pool, t.tenantId, (client) => invocationStats(client, t.tenantId, groupBy, filters));
const between = (range: { since: string; until: string }) => ({
  since: new Date(range.since),
  until: new Date(range.until),
});

const keptDays = async (t: NewTenant, groupBy = 'tool') =>
  (
    await db.pool.query<{ day: string; version: string }>(
      `SELECT day::text AS day, version FROM stats_day WHERE tenant_id = $1 AND group_by = $2 ORDER BY day`,
      [t.tenantId, groupBy],
    )
  ).rows;

beforeAll(async () => {
  db = await createTestDatabase();
  tenant = await createTenant(db.pool, 'stats-days');
  other = await createTenant(db.pool, 'stats-days-other');
  // Ten days of calls, including yesterday and today, several per day at different hours.
  const instants = Array.from({ length: 10 }, (_, d) =>
    Array.from({ length: 12 }, (_, h) => at(d, h * 2 * 3_600_000 + d * 1000)),
  ).flat();
  await writeSteps(db.pool, calls(tenant, instants, 1));
  await writeSteps(db.pool, calls(other, instants.slice(0, 30), 500));
});
afterAll(async () => {
  await db?.drop();
});

describe('invocation stats from kept days', () => {
  it('equals PostgreSQL aggregates over every call, and keeps each closed day (not yesterday or today)', async () => {
    for (const groupBy of ['tool', 'model', 'invoker'] as const) {
      expectSame(await stats(tenant, groupBy), await oracle(groupBy, tenant));
    }
    const days = await keptDays(tenant);
    expect(days.map((d) => d.day)).toEqual(Array.from({ length: 8 }, (_, i) => at(9 - i).slice(0, 10)));
    // Asked again: served from the kept days as they are.
    const again = await stats(tenant, 'tool');
    expectSame(again, await oracle('tool', tenant));
    const xmins = async () =>
      (
        await db.pool.query(`SELECT xmin::text FROM stats_day WHERE tenant_id = $1 ORDER BY day, group_by`, [
          tenant.tenantId,
        ])
      ).rows;
    const before = await xmins();
    await stats(tenant, 'tool');
    expect(await xmins()).toEqual(before);
  });

  it('adds whole days and the partial days at both ends of a since/until range exactly once', async () => {
    const range = { since: at(8, 5 * 3_600_000 + 1), until: at(2, 13 * 3_600_000) };
    expectSame(await stats(tenant, 'tool', between(range)), await oracle('tool', tenant, range));
    const midnight = { since: at(6), until: at(3) };
    expectSame(await stats(tenant, 'tool', between(midnight)), await oracle('tool', tenant, midnight));
    const insideOneDay = { since: at(5, 1000), until: at(5, 20 * 3_600_000) };
    expectSame(
      await stats(tenant, 'tool', between(insideOneDay)),
      await oracle('tool', tenant, insideOneDay),
    );
  });

  it('counts a late call of a kept day, and a re-sent one only once', async () => {
    await stats(tenant, 'tool');
    const version = async () => (await keptDays(tenant)).find((d) => d.day === at(7).slice(0, 10))!.version;
    const before = await version();
    const late = calls(tenant, [at(7, 3_600_000), at(7, 7_200_000)], 2);
    late[0]!.invocation!.latencyMs = 99_999;
    await writeSteps(db.pool, late);
    await writeSteps(db.pool, late);
    const after = await stats(tenant, 'tool');
    expectSame(after, await oracle('tool', tenant));
    expect(after.some((r) => r.p99_ms !== null && r.p99_ms > 100)).toBe(true);
    // One bump for the transaction that stored the two calls; none for the re-sent ones, which stored nothing.
    expect(Number(await version())).toBe(Number(before) + 1);
  });

  it('follows a cost recompute and deleted calls (retention) of kept days', async () => {
    await stats(tenant, 'model');
    const { rows } = await db.pool.query<{ id: string }>(
      `SELECT id FROM invocation WHERE tenant_id = $1 AND kind = 'model' AND started_at < $2`,
      [tenant.tenantId, at(3)],
    );
    await storeEstimatedCosts(
      db.pool,
      tenant.tenantId,
      rows.map((r) => ({ id: r.id, costUsd: 1 })),
    );
    const repriced = await stats(tenant, 'model');
    expectSame(repriced, await oracle('model', tenant));
    expect(repriced[0]!.cost_usd).toBeGreaterThanOrEqual(rows.length);

    await db.pool.query(`DELETE FROM invocation WHERE tenant_id = $1 AND started_at < $2`, [
      tenant.tenantId,
      at(8),
    ]);
    expectSame(await stats(tenant, 'tool'), await oracle('tool', tenant));
    expectSame(await stats(tenant, 'model'), await oracle('model', tenant));
    // The day whose calls are all gone is no longer kept.
    expect((await keptDays(tenant))[0]!.day).toBe(at(8).slice(0, 10));
  });

  it("keeps each tenant's days apart", async () => {
    expectSame(await stats(other, 'tool'), await oracle('tool', other));
    const others = await keptDays(other);
    expect(others.length).toBeGreaterThan(0);
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n FROM stats_day WHERE tenant_id NOT IN ($1, $2)`,
      [tenant.tenantId, other.tenantId],
    );
    expect(rows[0].n).toBe(0);
    // Through the application role, a tenant sees only its own kept days.
    const seen = await withTenant(db.pool, other.tenantId, async (client) =>
      (await client.query(`SELECT DISTINCT tenant_id FROM stats_day`)).rows.map((r) => r.tenant_id),
    );
    expect(seen).toEqual([other.tenantId]);
  });

  it('lets concurrent queries compute the same days at once', async () => {
    const fresh = await createTenant(db.pool, 'stats-days-concurrent');
    await writeSteps(db.pool, calls(fresh, [at(4), at(5, 60_000), at(6, 120_000), at(6, 180_000)], 9));
    const answers = await Promise.all(Array.from({ length: 4 }, () => stats(fresh, 'tool')));
    for (const answer of answers) expectSame(answer, await oracle('tool', fresh));
    expect((await keptDays(fresh)).map((d) => d.day)).toEqual([6, 5, 4].map((d) => at(d).slice(0, 10)));
  });

  it('keeps only days with calls: a call stamped decades ago costs one day', async () => {
    const skewed = await createTenant(db.pool, 'stats-days-skewed-clock');
    await writeSteps(db.pool, calls(skewed, ['1990-06-01T12:00:00.000000Z', at(3), at(0, 1000)], 1));
    expectSame(await stats(skewed, 'tool'), await oracle('tool', skewed));
    expect((await keptDays(skewed)).map((d) => d.day)).toEqual(['1990-06-01', at(3).slice(0, 10)]);
  });

  it('answers filtered stats from the calls, exactly', async () => {
    const failed = await stats(tenant, 'tool', { success: false });
    const { rows } = await db.pool.query(
      `SELECT tool_name AS key, count(*)::int AS n FROM invocation
       WHERE tenant_id = $1 AND tool_name IS NOT NULL AND NOT success GROUP BY 1 ORDER BY 2 DESC, 1`,
      [tenant.tenantId],
    );
    expect(failed.map((r) => [r.key, r.total_invocations, r.successful])).toEqual(
      rows.map((r) => [r.key, r.n, 0]),
    );
  });
});
