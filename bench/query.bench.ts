/**
 * Query benchmark (`npm run bench:query`): loads BENCH_QUERY_SPANS (1,000,000) realistic agent spans —
 * runs of mixed sizes (mostly tens of steps, some hundreds, a few thousands, and one of 5,000 steps) over
 * 30 days, three agents, two environments — through the ingest writer in large batches, then times over
 * HTTP (auth, row-level security and JSON included) BENCH_QUERY_ROUNDS (100) rounds of:
 *   - the first page of runs with two filters (agent and tag),
 *   - the timeline of the 5,000-step run, as served (cached while the run is unchanged) and uncached,
 *   - an invocation list filtered by tool and success,
 *   - invocation stats grouped by tool,
 * and prints p50/p99 against the targets (lists and timelines < 50 ms p99, stats < 200 ms p99), with the
 * plan of each query's main statement (EXPLAIN ANALYZE) when BENCH_EXPLAIN=1.
 * Environment: BENCH_QUERY_SPANS, BENCH_QUERY_ROUNDS, BENCH_EXPLAIN, DATABASE_URL (else an embedded server).
 */
import type { AddressInfo } from 'node:net';
import { createQueryApp } from '@agentrace/query-api';
import { createTenant, type StepRecord, writeSteps } from '@agentrace/store';
import { pino } from 'pino';
import { z } from 'zod';
import { agentRunRecords, seeded } from './agent-runs.ts';
import { openBenchDatabase, quantile, timeIt } from './bench-database.ts';

const env = z
  .object({
    BENCH_QUERY_SPANS: z.coerce.number().int().min(10_000).default(1_000_000),
    BENCH_QUERY_ROUNDS: z.coerce.number().int().min(5).default(100),
    BENCH_EXPLAIN: z.string().optional(),
  })
  .parse(process.env);
const log = (line: string) => process.stdout.write(`${line}\n`);

const BATCH_RECORDS = 8192;
const WRITERS = 2;
const DAY_MS = 86_400_000;
const START_MS = Date.parse('2026-04-01T00:00:00Z');
const AGENTS = ['planner', 'coder', 'support'];

/** Sizes of runs: mostly tens of steps, some hundreds, a few thousands. */
function runSize(random: () => number): number {
  const r = random();
  if (r < 0.6) return 10 + Math.floor(random() * 50);
  if (r < 0.95) return 100 + Math.floor(random() * 200);
  return 1000 + Math.floor(random() * 2000);
}

const db = await openBenchDatabase(WRITERS + 6);
try {
  const tenant = await createTenant(db.pool, 'bench');
  const random = seeded(11);
  const started = performance.now();
  let spans = 0;
  let runs = 0;
  let bigRunId = '';
  const inFlight = new Set<Promise<unknown>>();
  let batch: StepRecord[] = [];
  const flush = async () => {
    const records = batch;
    batch = [];
    const write: Promise<unknown> = writeSteps(db.pool, records).then(() => inFlight.delete(write));
    inFlight.add(write);
    if (inFlight.size >= WRITERS) await Promise.race(inFlight);
  };
  while (spans < env.BENCH_QUERY_SPANS) {
    const big = runs === 7;
    const steps = big ? 5000 : Math.min(runSize(random), env.BENCH_QUERY_SPANS - spans);
    const agent = AGENTS[Math.floor(random() * AGENTS.length)]!;
    const records = agentRunRecords({
      tenantId: tenant.tenantId,
      projectId: tenant.projectId,
      steps: Math.max(steps, 2),
      seed: runs + 1,
      startMs: START_MS + random() * 30 * DAY_MS,
      agent,
      tags: { env: random() < 0.7 ? 'prod' : 'dev', team: `team-${Math.floor(random() * 5)}` },
    });
    if (big) bigRunId = records[0]!.runId;
    for (const record of records) {
      batch.push(record);
      if (batch.length >= BATCH_RECORDS) await flush();
    }
    spans += records.length;
    runs++;
    if (runs % 500 === 0) process.stderr.write(`\rloaded ${spans} spans in ${runs} runs`);
  }
  if (batch.length > 0) await flush();
  await Promise.all(inFlight);
  const loadSeconds = (performance.now() - started) / 1000;
  process.stderr.write('\n');
  await db.pool.query('VACUUM ANALYZE');
  const counts = (
    await db.pool.query<{ steps: number; invocations: number; runs: number }>(
      `SELECT (SELECT count(*)::int FROM step) AS steps, (SELECT count(*)::int FROM invocation) AS invocations,
              (SELECT count(*)::int FROM run) AS runs`,
    )
  ).rows[0]!;
  log(
    `loaded ${counts.steps} spans (${counts.invocations} invocations) in ${counts.runs} runs in ${loadSeconds.toFixed(0)} s ` +
      `(${Math.round(counts.steps / loadSeconds)} spans/s)`,
  );

  // As served (timelines of unchanged runs cached), and with the timeline cache off: every request rendered.
  const served = await listen(createQueryApp({ pool: db.pool, logger: pino({ level: 'silent' }) }));
  const uncached = await listen(
    createQueryApp({ pool: db.pool, logger: pino({ level: 'silent' }), timelineCacheBytes: 0 }),
  );
  // Timed to the last byte of the answer: parsing it is the client's work, not the server's.
  const get = async (path: string, base = served.base) => {
    const res = await fetch(base + path, { headers: { authorization: `Bearer ${tenant.adminKey.key}` } });
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
    return res.arrayBuffer();
  };
  const cases = [
    { name: 'runs, first page, agent + tag filters', path: '/v1/runs?agent=coder&tag.env=dev', target: 50 },
    { name: 'timeline of the 5,000-step run', path: `/v1/runs/${bigRunId}/timeline`, target: 50 },
    { name: 'the same, timeline cache off', path: `/v1/runs/${bigRunId}/timeline`, target: 50, base: uncached.base },
    {
      name: 'invocations, tool + success filters',
      path: '/v1/invocations?tool=search&success=false',
      target: 50,
    },
    { name: 'stats grouped by tool', path: '/v1/invocations/stats?group_by=tool', target: 200 },
  ];
  const results = [];
  for (const c of cases) {
    // The first request apart: it may fill what later ones reuse (kept stats days, the timeline cache).
    const firstStart = performance.now();
    const first = await get(c.path, c.base);
    const firstMs = performance.now() - firstStart;
    const body = JSON.parse(Buffer.from(first).toString()) as {
      data?: unknown[];
      steps?: unknown[];
    };
    const size = (body.data ?? body.steps ?? []).length;
    const samples = await timeIt(() => get(c.path, c.base), env.BENCH_QUERY_ROUNDS, 3);
    const p50 = quantile(samples, 0.5);
    const p99 = quantile(samples, 0.99);
    results.push({
      query: c.name,
      items: size,
      p50_ms: +p50.toFixed(1),
      p99_ms: +p99.toFixed(1),
      first_ms: +firstMs.toFixed(1),
      target_p99_ms: c.target,
    });
    log(
      `${c.name.padEnd(40)} ${String(size).padStart(5)} items  p50 ${p50.toFixed(1).padStart(6)} ms  p99 ${p99.toFixed(1).padStart(6)} ms  ` +
        `(target p99 < ${c.target} ms: ${p99 < c.target ? 'met' : 'MISSED'}; first request ${firstMs.toFixed(1)} ms)`,
    );
  }
  served.server.close();
  uncached.server.close();
  if (env.BENCH_EXPLAIN) await explain(tenant.tenantId, bigRunId);
  log(
    JSON.stringify({
      spans: counts.steps,
      runs: counts.runs,
      load_spans_per_s: Math.round(counts.steps / loadSeconds),
      results,
    }),
  );
} finally {
  await db.close();
}

async function listen(app: ReturnType<typeof createQueryApp>) {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** The plans of the main statement behind each case, to see why a target is missed. */
async function explain(tenantId: string, runId: string) {
  const { invocationConditions } = await import('@agentrace/store');
  const statements: [string, string, unknown[]][] = [
    [
      'runs',
      `SELECT r.id FROM run r WHERE r.tenant_id = $1 AND r.agent_name = 'coder' AND r.tags @> '{"env":"dev"}'
       ORDER BY r.started_at DESC, r.id DESC LIMIT 101`,
      [tenantId],
    ],
    [
      'timeline',
      'SELECT s.id FROM step s WHERE s.tenant_id = $1 AND s.run_id = $2 ORDER BY s.seq',
      [tenantId, runId],
    ],
  ];
  const where = invocationConditions(tenantId, { tool: 'search', success: false });
  statements.push([
    'invocations',
    `SELECT i.id FROM invocation i WHERE ${where.toSql()} ORDER BY i.started_at DESC, i.id DESC LIMIT 101`,
    where.params,
  ]);
  for (const [name, sql, params] of statements) {
    const { rows } = await db.pool.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params);
    log(`\n-- ${name}\n${rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n')}`);
  }
}
