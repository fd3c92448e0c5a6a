/**
 * Ingest benchmark (`npm run bench:ingest`).
 *
 * 1. Starts `agentrace serve` as a child process on a fresh embedded PostgreSQL (a temporary data dir), or
 *    on a fresh database of the server that DATABASE_URL names.
 * 2. End to end: BENCH_CLIENTS exporters send gzipped OTLP protobuf batches of realistic agent spans, each
 *    sending its next batch once the previous is acknowledged, for BENCH_SECONDS (after a warm-up). Only
 *    200 answers count; the step count in the database is checked against what was acknowledged.
 * 3. Baseline: the receiver's own normalization of the same kind of batches, written with COPY into a fresh
 *    database of the same schema on the same server, by as many sessions as the server has writers.
 * 4. Prints the numbers, where the CPU went (server process, PostgreSQL, this process), and a JSON line.
 *
 * Environment: BENCH_CLIENTS (8), BENCH_SECONDS (20), BENCH_WARMUP_SECONDS (3), BENCH_SPANS_PER_BATCH
 * (512), BENCH_BASELINE_MIN_SPANS (200000), BENCH_COPY_CONNECTIONS (the server's writers, 2),
 * BENCH_COPY_CHUNK_SPANS (8192, the server's batch limit), BENCH_CPU_PROF (a directory, or 1 for a
 * temporary one: profiles the server with `node --cpu-prof` and prints its hot spots), DATABASE_URL.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_REDACTION_RULES, decodeProtobuf, normalizeRequest, Pricing } from '@agentrace/receiver';
import { createPool, migrate, startEmbeddedPostgres, type StepRecord } from '@agentrace/store';
import { z } from 'zod';
import { defaultIngestThreads } from '../cli/src/config.ts';
import { type CopyChunk, copyChunk, runCopyBaseline } from './copy-baseline.ts';
import { formatProfileSummary, summarizeCpuProfile } from './cpu-profile.ts';
import { type Batch, type BatchSource, type PhaseResult, quantile, runLoad } from './load.ts';
import {
  benchServerEnv,
  embeddedPostmasterPid,
  machineCpuSeconds,
  mainThreadCpuSeconds,
  postgresCpuSeconds,
  processCpuSeconds,
  stallMicros,
  startServerProcess,
} from './server-process.ts';
import { AgentSpanFactory, encodeRequest, gzipRequest } from './span-factory.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const Int = (def: number, min = 1) => z.coerce.number().int().min(min).default(def);
const Env = z.object({
  BENCH_CLIENTS: Int(8),
  BENCH_SECONDS: z.coerce.number().positive().default(20),
  BENCH_WARMUP_SECONDS: z.coerce.number().min(0).default(3),
  BENCH_SPANS_PER_BATCH: Int(512),
  BENCH_BASELINE_MIN_SPANS: Int(200_000, 0),
  BENCH_COPY_CONNECTIONS: z.coerce.number().int().min(1).optional(),
  BENCH_COPY_CHUNK_SPANS: Int(8192),
  BENCH_CPU_PROF: z.string().optional(),
  AGENTRACE_INGEST_WRITERS: z.coerce.number().int().min(1).default(2),
  AGENTRACE_INGEST_THREADS: z.coerce.number().int().min(1).default(defaultIngestThreads()),
  DATABASE_URL: z.string().url().optional(),
});
const emptyToUndefined = Object.fromEntries(
  Object.entries(process.env).map(([k, v]) => [k, v === '' ? undefined : v]),
);
const env = Env.parse(emptyToUndefined);
const copyConnections = env.BENCH_COPY_CONNECTIONS ?? env.AGENTRACE_INGEST_WRITERS;

const log = (line = '') => process.stdout.write(`${line}\n`);
const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const withDatabase = (url: string, database: string) => {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
};
const newKey = () => `art_${randomBytes(32).toString('base64url')}`;

/** Batches made ahead of time; past the end, made on demand (and counted, since that steals CPU). */
class PooledSource implements BatchSource {
  private readonly batches: Batch[] = [];
  private index = 0;
  madeOnDemand = 0;
  constructor(private readonly factory: AgentSpanFactory) {}

  fill(count: number): void {
    for (let i = 0; i < count; i++) this.batches.push(this.make());
  }

  get spare(): number {
    return this.batches.length - this.index;
  }

  next(): Batch {
    if (this.index < this.batches.length) {
      const batch = this.batches[this.index]!;
      // Sent once: let it go.
      this.batches[this.index++] = undefined as unknown as Batch;
      return batch;
    }
    this.madeOnDemand++;
    return this.make();
  }

  private make(): Batch {
    const request = this.factory.nextRequest();
    return { gzipped: gzipRequest(encodeRequest(request)), spans: env.BENCH_SPANS_PER_BATCH };
  }
}

interface Metrics {
  batchSecondsSum: number;
  batchCount: number;
  accepted: number;
}

async function serverMetrics(otlpUrl: string): Promise<Metrics> {
  const text = await (await fetch(`${otlpUrl}/metrics`)).text();
  const value = (name: string) =>
    Number(new RegExp(`^${name}(?:\\{\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return {
    batchSecondsSum: value('agentrace_ingest_batch_seconds_sum'),
    batchCount: value('agentrace_ingest_batch_seconds_count'),
    accepted: value('agentrace_spans_accepted_total'),
  };
}

interface CpuSnapshot {
  at: number;
  server: number | null;
  /** The server's main thread: HTTP, the writer; the rest of its CPU is the normalize workers (and GC, zlib). */
  serverMain: number | null;
  postgres: number | null;
  bench: number;
  machine: { busy: number; total: number };
  ioStallUs: number | null;
}

async function cpuSnapshot(serverPid: number | null, postmasterPid: number | null): Promise<CpuSnapshot> {
  const usage = process.cpuUsage();
  return {
    at: performance.now(),
    server: serverPid === null ? null : await processCpuSeconds(serverPid),
    serverMain: serverPid === null ? null : await mainThreadCpuSeconds(serverPid),
    postgres: postmasterPid === null ? null : await postgresCpuSeconds(postmasterPid),
    bench: (usage.user + usage.system) / 1e6,
    machine: await machineCpuSeconds(),
    ioStallUs: await stallMicros('io'),
  };
}

/**
 * Where the CPU went between two snapshots: the server, PostgreSQL, this process, and everything else on
 * the machine (another job running beside the bench shows up there, and makes the numbers low).
 */
function describeCpu(before: CpuSnapshot, after: CpuSnapshot, spans: number): CpuCost {
  const wall = (after.at - before.at) / 1000;
  const line = (name: string, cpu: number, perSpan: boolean) =>
    log(
      `  ${name.padEnd(22)} ${fmt(cpu, 1).padStart(5)} s CPU (${fmt((cpu / wall) * 100).padStart(3)}% of a core)` +
        (perSpan ? `, ${fmt((cpu / spans) * 1e6, 1)} µs per span` : ''),
    );
  const machineBusy = after.machine.busy - before.machine.busy;
  const machineTotal = after.machine.total - before.machine.total;
  const ioStall =
    after.ioStallUs !== null && before.ioStallUs !== null
      ? `, some task waiting on I/O ${fmt(((after.ioStallUs - before.ioStallUs) / 1e6 / wall) * 100)}% of the time`
      : '';
  log(`  CPU over ${fmt(wall, 1)} s (machine ${fmt((machineBusy / machineTotal) * 100)}% busy${ioStall}):`);
  let known = after.bench - before.bench;
  if (after.server !== null && before.server !== null) {
    line('server process (node)', after.server - before.server, true);
    line('  of which main thread', after.serverMain! - before.serverMain!, true);
    known += after.server - before.server;
  }
  const pg = after.postgres !== null && before.postgres !== null ? after.postgres - before.postgres : null;
  if (pg !== null) {
    line('PostgreSQL', pg, true);
    known += pg;
  }
  line('this bench process', after.bench - before.bench, false);
  const other = pg !== null ? Math.max(0, machineBusy - known) : null;
  if (other !== null) line('other processes', other, false);
  if (other !== null && other / wall > NOISY_CORES) {
    log(
      `  WARNING: other processes took ${fmt(other / wall, 2)} cores of this phase: its number is low; rerun on a quiet machine`,
    );
  }
  return {
    serverPerSpanUs:
      after.server !== null && before.server !== null ? ((after.server - before.server) / spans) * 1e6 : null,
    pgPerSpanUs: pg === null ? null : (pg / spans) * 1e6,
    benchPerSpanUs: ((after.bench - before.bench) / spans) * 1e6,
    otherCores: other === null ? null : other / wall,
  };
}

interface CpuCost {
  serverPerSpanUs: number | null;
  pgPerSpanUs: number | null;
  benchPerSpanUs: number;
  otherCores: number | null;
}

const CORES = availableParallelism();

/**
 * The throughput the measured CPU cost per span allows on this machine if nothing else ran: the server
 * can use a core per thread (its event loop and its normalize workers), its PostgreSQL sessions the rest.
 * Other load changes throughput far more than cost per span, so this says what a quiet machine would show.
 */
function cpuBoundEndToEnd(cost: CpuCost): number | null {
  if (cost.serverPerSpanUs === null || cost.pgPerSpanUs === null) return null;
  const serverCores = Math.min(CORES, 1 + env.AGENTRACE_INGEST_THREADS);
  return Math.min(
    (serverCores * 1e6) / cost.serverPerSpanUs,
    (CORES * 1e6) / (cost.serverPerSpanUs + cost.pgPerSpanUs),
  );
}

/** The same for the COPY baseline: `connections` PostgreSQL sessions at most, on the machine's cores. */
function cpuBoundBaseline(cost: CpuCost, connections: number): number | null {
  if (cost.pgPerSpanUs === null) return null;
  return Math.min(
    (connections * 1e6) / cost.pgPerSpanUs,
    (CORES * 1e6) / (cost.pgPerSpanUs + cost.benchPerSpanUs),
  );
}

/** Other processes' CPU (in cores) above which a phase is reported as disturbed. */
const NOISY_CORES = 0.2;

/** The share of the machine's CPU that other processes keep busy over `ms`, before the bench loads it. */
async function machineBusyShare(ms: number): Promise<number> {
  const before = await machineCpuSeconds();
  const own = process.cpuUsage();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = await machineCpuSeconds();
  const ownUsage = process.cpuUsage(own);
  const busy = after.busy - before.busy - (ownUsage.user + ownUsage.system) / 1e6;
  return Math.max(0, busy) / Math.max(1e-9, after.total - before.total);
}

/** Normalized rows of fresh batches, as COPY chunks of whole requests (so whole runs). Not timed. */
function baselineChunks(minSpans: number): { chunks: CopyChunk[]; normalizeSeconds: number } {
  const factory = new AgentSpanFactory(env.BENCH_SPANS_PER_BATCH);
  const ctx = {
    tenantId: '00000000-0000-4000-8000-000000000001',
    projectId: '00000000-0000-4000-8000-000000000002',
    pricing: Pricing.load(),
    redaction: DEFAULT_REDACTION_RULES,
  };
  const requestsPerChunk = Math.max(1, Math.floor(env.BENCH_COPY_CHUNK_SPANS / env.BENCH_SPANS_PER_BATCH));
  const requests = Math.ceil(minSpans / env.BENCH_SPANS_PER_BATCH);
  const chunks: CopyChunk[] = [];
  let records: StepRecord[] = [];
  let normalizeMs = 0;
  for (let i = 0; i < requests; i++) {
    const body = encodeRequest(factory.nextRequest());
    const t0 = performance.now();
    const normalized = normalizeRequest(ctx, decodeProtobuf(body));
    normalizeMs += performance.now() - t0;
    records.push(...normalized.records);
    if ((i + 1) % requestsPerChunk === 0 || i === requests - 1) {
      chunks.push(copyChunk(records));
      records = [];
    }
  }
  return { chunks, normalizeSeconds: normalizeMs / 1000 };
}

function describePhase(name: string, r: PhaseResult): void {
  log(
    `${name}: ${fmt(r.acknowledgedSpans)} spans acknowledged in ${r.requests} requests over ${fmt(r.seconds, 2)} s` +
      ` = ${fmt(r.acknowledgedSpans / r.seconds)} spans/s; refused (503) ${r.refused}, failed ${r.failed}` +
      (r.rejectedSpans > 0 ? `, rejected spans ${r.rejectedSpans}` : ''),
  );
  for (const f of r.failures) log(`  failure: ${f}`);
}

async function main(): Promise<void> {
  const ingestKey = newKey();
  const adminKey = newKey();
  const suffix = randomBytes(4).toString('hex');
  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanup = async () => {
    for (const step of cleanups.splice(0).reverse())
      await step().catch((err) => log(`cleanup: ${String(err)}`));
  };
  process.once('SIGINT', () => {
    void cleanup().finally(() => process.exit(130));
  });

  try {
    const idle = await machineBusyShare(2000);
    if (idle > 0.15) {
      log(
        `warning: the machine is already ${fmt(idle * 100)}% busy before the bench starts; its numbers will be low`,
      );
    }
    // -- the server, on a fresh database ------------------------------------------------------------
    const serverEnv = benchServerEnv({ adminKey, ingestKey });
    let dataDir: string | null = null;
    let adminUrl: string | null = null;
    if (env.DATABASE_URL) {
      adminUrl = env.DATABASE_URL;
      const database = `agentrace_bench_${suffix}`;
      await withAdmin(adminUrl, `CREATE DATABASE ${database}`);
      cleanups.push(() => withAdmin(adminUrl!, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
      serverEnv.DATABASE_URL = withDatabase(adminUrl, database);
    } else {
      dataDir = await mkdtemp(path.join(tmpdir(), 'agentrace-bench-'));
      cleanups.push(() => rm(dataDir!, { recursive: true, force: true }));
      serverEnv.AGENTRACE_DATA_DIR = dataDir;
      serverEnv.DATABASE_URL = '';
    }
    let profileDir: string | null = null;
    if (env.BENCH_CPU_PROF) {
      profileDir =
        env.BENCH_CPU_PROF === '1'
          ? await mkdtemp(path.join(tmpdir(), 'agentrace-bench-prof-'))
          : path.resolve(env.BENCH_CPU_PROF);
    }
    const started = performance.now();
    const server = await startServerProcess({
      repoRoot: REPO_ROOT,
      env: serverEnv,
      nodeArgs: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
    });
    cleanups.push(() => server.stop());
    log(
      `agentrace serve (pid ${server.pid}) ready in ${fmt((performance.now() - started) / 1000, 1)} s: ${server.otlpUrl}/v1/traces, ${server.apiUrl}`,
    );

    let dbUrl: string;
    let postmasterPid: number | null = null;
    if (dataDir) {
      // Join the child's embedded cluster (never start one: it is already running).
      const joined = await startEmbeddedPostgres({ dataDir });
      if (joined.owned) throw new Error('expected to join the server’s embedded PostgreSQL, not start one');
      dbUrl = joined.url;
      adminUrl = withDatabase(dbUrl, 'postgres');
      postmasterPid = await embeddedPostmasterPid(dataDir);
    } else {
      dbUrl = serverEnv.DATABASE_URL!;
    }
    log(
      `clients ${env.BENCH_CLIENTS}, ${env.BENCH_SPANS_PER_BATCH} spans per request (protobuf, gzip), ` +
        `warm-up ${env.BENCH_WARMUP_SECONDS} s, measured ${env.BENCH_SECONDS} s, database ${dataDir ? 'embedded (fresh data dir)' : 'DATABASE_URL (fresh database)'}`,
    );

    // -- end to end ---------------------------------------------------------------------------------
    const factory = new AgentSpanFactory(env.BENCH_SPANS_PER_BATCH);
    const source = new PooledSource(factory);
    let acknowledgedTotal = 0;
    let warmupRate = 0;
    if (env.BENCH_WARMUP_SECONDS > 0) {
      source.fill(env.BENCH_CLIENTS * 2);
      const warm = await runLoad({
        otlpUrl: server.otlpUrl,
        ingestKey,
        clients: env.BENCH_CLIENTS,
        seconds: env.BENCH_WARMUP_SECONDS,
        source,
      });
      describePhase('warm-up', warm);
      acknowledgedTotal += warm.acknowledgedSpans;
      warmupRate = warm.acknowledgedSpans / warm.seconds;
    }
    // Enough distinct batches for twice the warm-up rate, so none is made while the clock runs.
    const planned = Math.max(warmupRate * 2, 10_000) * env.BENCH_SECONDS;
    const genStart = performance.now();
    const toMake = Math.ceil(planned / env.BENCH_SPANS_PER_BATCH) + env.BENCH_CLIENTS * 2 - source.spare;
    source.fill(Math.max(0, toMake));
    log(
      `pre-generated ${source.spare} distinct batches (${fmt(source.spare * env.BENCH_SPANS_PER_BATCH)} spans) in ${fmt((performance.now() - genStart) / 1000, 1)} s`,
    );

    const madeBefore = source.madeOnDemand;
    const metricsBefore = await serverMetrics(server.otlpUrl);
    const cpuBefore = await cpuSnapshot(server.pid, postmasterPid);
    const run = await runLoad({
      otlpUrl: server.otlpUrl,
      ingestKey,
      clients: env.BENCH_CLIENTS,
      seconds: env.BENCH_SECONDS,
      source,
    });
    const cpuAfter = await cpuSnapshot(server.pid, postmasterPid);
    const metricsAfter = await serverMetrics(server.otlpUrl);
    acknowledgedTotal += run.acknowledgedSpans;
    describePhase('measured', run);
    const madeDuringRun = source.madeOnDemand - madeBefore;
    if (madeDuringRun > 0)
      log(`  note: ${madeDuringRun} batches were generated during the measured phase (pool ran out)`);

    const spansPerSecond = run.acknowledgedSpans / run.seconds;
    const p50 = quantile(run.latenciesMs, 0.5);
    const p99 = quantile(run.latenciesMs, 0.99);

    // Acknowledged means committed: every acknowledged span must be a step row now.
    const verifyPool = createPool(dbUrl, 1);
    const counts = await verifyPool
      .query<{ steps: number; invocations: number; runs: number }>(
        `SELECT (SELECT count(*) FROM step)::int AS steps, (SELECT count(*) FROM invocation)::int AS invocations,
                (SELECT count(*) FROM run)::int AS runs`,
      )
      .finally(() => verifyPool.end());
    const row = counts.rows[0]!;
    const verified = row.steps === acknowledgedTotal;
    log(
      `database: ${fmt(row.steps)} steps, ${fmt(row.invocations)} invocations, ${fmt(row.runs)} runs; ` +
        `acknowledged (warm-up + measured) ${fmt(acknowledgedTotal)} → ${verified ? 'match' : 'MISMATCH'}`,
    );

    // Where the CPU went while the clock ran.
    const runCpu = describeCpu(cpuBefore, cpuAfter, run.acknowledgedSpans);
    const wall = (cpuAfter.at - cpuBefore.at) / 1000;
    const batches = metricsAfter.batchCount - metricsBefore.batchCount;
    const batchSeconds = metricsAfter.batchSecondsSum - metricsBefore.batchSecondsSum;
    if (batches > 0) {
      log(
        `  writer: ${batches} transactions, ${fmt(run.acknowledgedSpans / batches)} spans each, ` +
          `${fmt((batchSeconds / batches) * 1000, 1)} ms each; writers busy ${fmt((batchSeconds / (wall * env.AGENTRACE_INGEST_WRITERS)) * 100)}% ` +
          `of ${env.AGENTRACE_INGEST_WRITERS} (${fmt((batchSeconds / run.acknowledgedSpans) * 1e6, 1)} writer-µs per span)`,
      );
    }

    // -- baseline: the same rows with COPY ------------------------------------------------------------
    const baselineSpans = Math.max(run.acknowledgedSpans, env.BENCH_BASELINE_MIN_SPANS);
    const prep = performance.now();
    const { chunks, normalizeSeconds } = baselineChunks(baselineSpans);
    log(
      `baseline: normalized ${fmt(chunks.reduce((a, c) => a + c.stepCount, 0))} spans with the receiver's normalizeRequest ` +
        `(${fmt(normalizeSeconds, 1)} s, ${fmt((normalizeSeconds / baselineSpans) * 1e6, 1)} µs per span, not timed); ` +
        `prepared in ${fmt((performance.now() - prep) / 1000, 1)} s`,
    );
    const copyDatabase = `agentrace_bench_copy_${suffix}`;
    await withAdmin(adminUrl!, `CREATE DATABASE ${copyDatabase}`);
    cleanups.push(() => withAdmin(adminUrl!, `DROP DATABASE IF EXISTS ${copyDatabase} WITH (FORCE)`));
    const copyUrl = withDatabase(dbUrl, copyDatabase);
    const migratePool = createPool(copyUrl, 1);
    await migrate(migratePool).finally(() => migratePool.end());
    const baseline = await runCopyBaseline(copyUrl, chunks, copyConnections, () =>
      cpuSnapshot(null, postmasterPid),
    );
    const checkPool = createPool(copyUrl, 1);
    const copied = (
      await checkPool
        .query<{ n: number }>('SELECT count(*)::int AS n FROM step')
        .finally(() => checkPool.end())
    ).rows[0]!.n;
    const baselineRate = baseline.steps / baseline.seconds;
    log(
      `baseline COPY: ${fmt(baseline.steps)} steps + ${fmt(baseline.invocations)} invocations + ${fmt(baseline.runs)} runs ` +
        `in ${baseline.transactions} transactions on ${copyConnections} connections, ${fmt(baseline.seconds, 2)} s ` +
        `= ${fmt(baselineRate)} spans/s (${fmt((baseline.steps + baseline.invocations + baseline.runs) / baseline.seconds)} rows/s); ` +
        `${copied === baseline.steps ? 'row count verified' : `ROW COUNT MISMATCH (${copied})`}`,
    );
    const baselineCpu = baseline.probed
      ? describeCpu(baseline.probed.before, baseline.probed.after, baseline.steps)
      : null;

    // -- summary ----------------------------------------------------------------------------------------
    const ratio = spansPerSecond / baselineRate;
    log();
    log(
      `end to end:   ${fmt(spansPerSecond)} spans/s committed, ack latency p50 ${fmt(p50, 1)} ms, p99 ${fmt(p99, 1)} ms, refused ${run.refused}`,
    );
    log(`baseline:     ${fmt(baselineRate)} spans/s (COPY)`);
    log(`ratio:        ${fmt(ratio, 3)} (end to end / baseline)`);
    const boundE2e = cpuBoundEndToEnd(runCpu);
    const boundBaseline = baselineCpu ? cpuBoundBaseline(baselineCpu, copyConnections) : null;
    if (boundE2e !== null && boundBaseline !== null) {
      log(
        `CPU-bound:    ${fmt(boundE2e)} spans/s end to end, ${fmt(boundBaseline)} spans/s COPY, ratio ${fmt(boundE2e / boundBaseline, 3)} ` +
          `(from the CPU cost per span above, on ${CORES} cores: what a quiet machine allows)`,
      );
    }
    log(
      `targets:      ≥ 20,000 spans/s ${spansPerSecond >= 20_000 ? 'met' : 'NOT met'}; ≥ 0.5 of baseline ${ratio >= 0.5 ? 'met' : 'NOT met'}`,
    );

    cleanups.pop(); // the copy database goes with the cluster (or is dropped below)
    if (env.DATABASE_URL) await withAdmin(adminUrl!, `DROP DATABASE IF EXISTS ${copyDatabase} WITH (FORCE)`);
    const code = await server.stop();
    if (code !== 0) log(`note: agentrace serve exited with code ${code}:\n${server.stderrTail()}`);
    if (profileDir) {
      // One profile per thread (tsx runs a loader thread): the main thread's is `CPU.<date>.<time>.<pid>.0.<n>`.
      const file = (await readdir(profileDir)).find(
        (f) => f.includes(`.${server.pid}.0.`) && f.endsWith('.cpuprofile'),
      );
      if (file) {
        log(`server CPU profile: ${path.join(profileDir, file)} (its whole life; idle time left out)`);
        log(formatProfileSummary(summarizeCpuProfile(path.join(profileDir, file), 20)));
      }
    }
    log(
      JSON.stringify({
        bench: 'ingest',
        clients: env.BENCH_CLIENTS,
        seconds: Number(run.seconds.toFixed(2)),
        spans_per_batch: env.BENCH_SPANS_PER_BATCH,
        spans_per_s: Math.round(spansPerSecond),
        p50_ms: Number(p50.toFixed(1)),
        p99_ms: Number(p99.toFixed(1)),
        refused: run.refused,
        failed: run.failed,
        acknowledged_spans: acknowledgedTotal,
        stored_steps: row.steps,
        verified,
        baseline_spans_per_s: Math.round(baselineRate),
        baseline_spans: baseline.steps,
        ratio: Number(ratio.toFixed(3)),
        cpu_bound_spans_per_s: boundE2e === null ? null : Math.round(boundE2e),
        cpu_bound_baseline_spans_per_s: boundBaseline === null ? null : Math.round(boundBaseline),
        // CPU (in cores) that other processes on the machine took while each phase ran: non-zero means noise.
        other_cores: runCpu.otherCores === null ? null : Number(runCpu.otherCores.toFixed(2)),
        baseline_other_cores:
          baselineCpu?.otherCores == null ? null : Number(baselineCpu.otherCores.toFixed(2)),
      }),
    );
    if (!verified || run.failed > 0) process.exitCode = 1;
  } finally {
    await cleanup();
  }
}

async function withAdmin(url: string, sql: string): Promise<void> {
  const pool = createPool(url, 1);
  try {
    await pool.query(sql);
  } finally {
    await pool.end();
  }
}

await main();
