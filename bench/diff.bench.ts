/**
 * Diff benchmark (`npm run bench:diff`): two stored runs of 10,000 steps each, the second a variant of the
 * first (retried tools, other answers, other latencies), diffed with the default profile. Prints the time
 * to load both runs, to align and compare them (the pure diff), and the whole `GET /v1/diff` request over
 * HTTP, as p50/max of BENCH_DIFF_ROUNDS (10) rounds. Target: under one second.
 * Environment: BENCH_DIFF_STEPS (10000), BENCH_DIFF_ROUNDS (10), DATABASE_URL (else an embedded server).
 */
import type { AddressInfo } from 'node:net';
import { createQueryApp, diffRuns } from '@agentrace/query-api';
import { createTenant, getRunWithSteps, writeSteps } from '@agentrace/store';
import { pino } from 'pino';
import { z } from 'zod';
import { agentRunRecords } from './agent-runs.ts';
import { openBenchDatabase, quantile, timeIt } from './bench-database.ts';

const env = z
  .object({
    BENCH_DIFF_STEPS: z.coerce.number().int().min(10).default(10_000),
    BENCH_DIFF_ROUNDS: z.coerce.number().int().min(1).default(10),
  })
  .parse(process.env);
const log = (line: string) => process.stdout.write(`${line}\n`);
const ms = (samples: number[]) =>
  `p50 ${quantile(samples, 0.5).toFixed(1)} ms, max ${Math.max(...samples).toFixed(1)} ms`;

const db = await openBenchDatabase();
try {
  const tenant = await createTenant(db.pool, 'bench');
  const ids = {
    tenantId: tenant.tenantId,
    projectId: tenant.projectId,
    steps: env.BENCH_DIFF_STEPS,
    seed: 7,
  };
  const a = agentRunRecords({ ...ids, startMs: Date.parse('2026-05-01T10:00:00Z') });
  const b = agentRunRecords({ ...ids, startMs: Date.parse('2026-05-02T10:00:00Z'), variant: 99 });
  for (const records of [a, b])
    for (let i = 0; i < records.length; i += 2000) await writeSteps(db.pool, records.slice(i, i + 2000));
  const runA = a[0]!.runId;
  const runB = b[0]!.runId;
  log(`runs: ${a.length} and ${b.length} steps`);

  const load = () =>
    Promise.all([
      getRunWithSteps(db.pool, tenant.tenantId, runA),
      getRunWithSteps(db.pool, tenant.tenantId, runB),
    ]);
  const [ra, rb] = await load();
  const diff = diffRuns(ra!, rb!, 'default');
  const ops = new Map<string, number>();
  for (const step of diff.steps) ops.set(step.op, (ops.get(step.op) ?? 0) + 1);
  log(`diff: ${[...ops].map(([op, n]) => `${op} ${n}`).join(', ')}`);

  const loadTimes = await timeIt(load, env.BENCH_DIFF_ROUNDS);
  const pureTimes = await timeIt(() => diffRuns(ra!, rb!, 'default'), env.BENCH_DIFF_ROUNDS);
  const server = createQueryApp({ pool: db.pool, logger: pino({ level: 'silent' }) }).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/diff?runA=${runA}&runB=${runB}`;
  const httpTimes = await timeIt(async () => {
    const res = await fetch(url, { headers: { authorization: `Bearer ${tenant.adminKey.key}` } });
    if (res.status !== 200) throw new Error(`GET /v1/diff answered ${res.status}`);
    await res.arrayBuffer();
  }, env.BENCH_DIFF_ROUNDS);
  server.close();

  log(`load both runs:          ${ms(loadTimes)}`);
  log(`align and compare:       ${ms(pureTimes)}`);
  log(`GET /v1/diff end to end: ${ms(httpTimes)}  (target < 1000 ms)`);
  log(
    JSON.stringify({
      steps: [a.length, b.length],
      load_p50_ms: quantile(loadTimes, 0.5),
      diff_p50_ms: quantile(pureTimes, 0.5),
      http_p50_ms: quantile(httpTimes, 0.5),
      http_max_ms: Math.max(...httpTimes),
    }),
  );
} finally {
  await db.close();
}
