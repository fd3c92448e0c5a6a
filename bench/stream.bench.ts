/**
 * Live stream benchmark (`npm run bench:stream`).
 *
 * Starts `agentrace serve` as a child process on a fresh embedded PostgreSQL, subscribes to
 * `GET /v1/stream` (every event of the tenant: the heaviest subscriber) and, for each target rate of
 * background OTLP ingest, sends paced batches of realistic agent spans for BENCH_SECONDS after a warm-up.
 * Latency of an event = when this process parsed it off the stream - when its transaction was numbered,
 * the clock_timestamp() of the commit trigger just before COMMIT (same host, same clock): so it includes
 * the commit itself and is an upper bound of commit-to-delivery.
 *
 * For each rate it also prints the CPU that agentrace, PostgreSQL and this process spent per span while
 * the clock ran. When a target is not reached, it adds the rate those costs allow on this machine's
 * cores: the target is beyond the machine, and the latency shown is that of a saturated one. (Below
 * saturation, costs per span are higher, since batches and stream pages are smaller: no bound is drawn.)
 *
 * Environment: BENCH_RATES (1000,10000 spans/s), BENCH_SECONDS (15), BENCH_WARMUP_SECONDS (3),
 * BENCH_SPANS_PER_BATCH (100), BENCH_MAX_IN_FLIGHT (8 requests), BENCH_SPLIT (1: `serve receiver` and
 * `serve api` as two processes on the one database, so ingest work never delays the stream's event loop).
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createPool, startEmbeddedPostgres } from '@agentrace/store';
import { z } from 'zod';
import { type Batch, post, quantile } from './load.ts';
import {
  benchServerEnv,
  embeddedPostmasterPid,
  machineCpuSeconds,
  postgresCpuSeconds,
  processCpuSeconds,
  startServerProcess,
} from './server-process.ts';
import { AgentSpanFactory, encodeRequest, gzipRequest } from './span-factory.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const Env = z.object({
  BENCH_RATES: z
    .string()
    .default('1000,10000')
    .transform((s) => s.split(',').map(Number)),
  BENCH_SECONDS: z.coerce.number().positive().default(15),
  BENCH_WARMUP_SECONDS: z.coerce.number().min(0).default(3),
  BENCH_SPANS_PER_BATCH: z.coerce.number().int().min(1).default(100),
  BENCH_MAX_IN_FLIGHT: z.coerce.number().int().min(1).default(8),
  BENCH_SPLIT: z.enum(['0', '1']).default('0'),
});
const env = Env.parse(Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== '')));
const log = (line = '') => process.stdout.write(`${line}\n`);
const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const newKey = () => `art_${randomBytes(32).toString('base64url')}`;
/**
 * The system's wall clock, which PostgreSQL's clock_timestamp() reads too. Not performance.timeOrigin +
 * now(): that follows a monotonic clock, which drifts from the wall clock when the system adjusts it (seen:
 * events "received" 57 ms before their commit, on a VM whose clock was being corrected).
 */
const wallMs = () => Date.now();

/** A subscriber that notes when each event's id came off the wire. */
async function subscribe(apiUrl: string, adminKey: string) {
  const received: { id: string; at: number }[] = [];
  const abort = new AbortController();
  const res = await fetch(`${apiUrl}/v1/stream`, {
    headers: { authorization: `Bearer ${adminKey}` },
    signal: abort.signal,
  });
  if (res.status !== 200) throw new Error(`GET /v1/stream answered ${res.status}: ${await res.text()}`);
  let errors = 0;
  const done = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body!) {
        const at = wallMs();
        buffer += decoder.decode(chunk, { stream: true });
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf('\n\n');
          if (frame.startsWith('id: ')) received.push({ id: frame.slice(4, frame.indexOf('\n')), at });
          else if (frame.startsWith('event: error')) errors++;
        }
      }
    } catch {
      // Aborted at the end.
    }
  })();
  return {
    received,
    errors: () => errors,
    async close() {
      abort.abort();
      await done;
    },
  };
}

/** Sends a batch every spans/rate seconds (at most BENCH_MAX_IN_FLIGHT at once) for `seconds`. */
async function pacedLoad(
  otlpUrl: string,
  ingestKey: string,
  rate: number,
  seconds: number,
  batches: Batch[],
) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: env.BENCH_MAX_IN_FLIGHT });
  const url = new URL(`${otlpUrl}/v1/traces`);
  const intervalMs = (env.BENCH_SPANS_PER_BATCH / rate) * 1000;
  const inFlight = new Set<Promise<void>>();
  let acknowledged = 0;
  let refused = 0;
  let failed = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  let next = started;
  while (performance.now() < end) {
    const now = performance.now();
    if (now < next) {
      await sleep(next - now);
      continue;
    }
    if (inFlight.size >= env.BENCH_MAX_IN_FLIGHT) {
      await Promise.race(inFlight);
      continue;
    }
    // Behind schedule (the server is saturated): the rate achieved says so; no burst to catch up.
    next = Math.max(next + intervalMs, now - intervalMs);
    const batch = batches.pop() ?? makeBatch();
    const request = post(agent, url, ingestKey, batch.gzipped).then(
      (res) => {
        if (res.status === 200) acknowledged += batch.spans;
        else if (res.status === 503 || res.status === 429) refused++;
        else failed++;
      },
      () => {
        failed++;
      },
    );
    const tracked = request.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  }
  await Promise.all(inFlight);
  agent.destroy();
  return { acknowledged, refused, failed, seconds: (performance.now() - started) / 1000 };
}

const factory = new AgentSpanFactory(env.BENCH_SPANS_PER_BATCH);
const makeBatch = (): Batch => ({
  gzipped: gzipRequest(encodeRequest(factory.nextRequest())),
  spans: env.BENCH_SPANS_PER_BATCH,
});

async function main(): Promise<void> {
  const adminKey = newKey();
  const ingestKey = newKey();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'agentrace-bench-stream-'));
  const serverEnv = {
    ...benchServerEnv({ adminKey, ingestKey }),
    // The bench's subscriber reads everything, but shares 2 cores with the server: bursts stay buffered.
    AGENTRACE_STREAM_CLIENT_BUFFER_KB: String(64 * 1024),
    AGENTRACE_DATA_DIR: dataDir,
    DATABASE_URL: '',
  };
  const split = env.BENCH_SPLIT === '1';
  const server = await startServerProcess({
    repoRoot: REPO_ROOT,
    env: serverEnv,
    mode: split ? 'receiver' : undefined,
  });
  // The API joins the receiver's embedded PostgreSQL (same data dir).
  const api = split ? await startServerProcess({ repoRoot: REPO_ROOT, env: serverEnv, mode: 'api' }) : server;
  const joined = await startEmbeddedPostgres({ dataDir });
  const pool = createPool(joined.url, 2);
  const postmasterPid = await embeddedPostmasterPid(dataDir);
  if (postmasterPid === null) throw new Error(`no postmaster.pid under ${dataDir}`);
  const serverPids = split ? [server.pid, api.pid] : [server.pid];
  try {
    log(
      `${split ? `agentrace serve receiver (pid ${server.pid}) and serve api (pid ${api.pid})` : `agentrace serve (pid ${server.pid})`} on a fresh embedded PostgreSQL; subscriber: every event of the tenant`,
    );
    log(
      `batches of ${env.BENCH_SPANS_PER_BATCH} spans (OTLP protobuf, gzip), at most ${env.BENCH_MAX_IN_FLIGHT} in flight; warm-up ${env.BENCH_WARMUP_SECONDS} s, measured ${env.BENCH_SECONDS} s per rate`,
    );
    const results = [];
    for (const rate of env.BENCH_RATES) {
      const needed = Math.ceil(
        (rate * (env.BENCH_SECONDS + env.BENCH_WARMUP_SECONDS)) / env.BENCH_SPANS_PER_BATCH,
      );
      const batches = Array.from({ length: Math.min(needed, 3000) }, makeBatch);
      const sub = await subscribe(api.apiUrl, adminKey);
      if (env.BENCH_WARMUP_SECONDS > 0)
        await pacedLoad(server.otlpUrl, ingestKey, rate, env.BENCH_WARMUP_SECONDS, batches);
      const from = sub.received.length;
      const windowStart = wallMs();
      const cpuBefore = await cpuSnapshot(serverPids, postmasterPid);
      const load = await pacedLoad(server.otlpUrl, ingestKey, rate, env.BENCH_SECONDS, batches);
      const cpu = cpuPerSpan(cpuBefore, await cpuSnapshot(serverPids, postmasterPid), load.acknowledged);
      // Events of the last commits are still on their way.
      await sleep(1000);
      await sub.close();
      const measured = sub.received.slice(from);
      // An event's id starts with its commit's number.
      const commitOf = (id: string) => id.slice(0, id.indexOf('-'));
      const written = await commitTimes(pool, [...new Set(measured.map((r) => commitOf(r.id)))]);
      const latencies: number[] = [];
      for (const r of measured) {
        const at = written.get(commitOf(r.id));
        if (at !== undefined && at >= windowStart) latencies.push(r.at - at);
      }
      const sorted = Float64Array.from(latencies);
      const saturated = load.acknowledged / load.seconds < 0.95 * rate;
      const result = {
        target_spans_per_s: rate,
        achieved_spans_per_s: Math.round(load.acknowledged / load.seconds),
        events: latencies.length,
        p50_ms: quantile(sorted, 0.5),
        p99_ms: quantile(sorted, 0.99),
        max_ms: quantile(sorted, 1),
        refused: load.refused,
        failed: load.failed,
        cut_off: sub.errors(),
        machine_busy: Number(cpu.busy.toFixed(2)),
        cpu_us_per_span: {
          agentrace: Math.round(cpu.agentrace),
          postgres: Math.round(cpu.postgres),
          bench: Math.round(cpu.bench),
        },
        cpu_bound_spans_per_s: saturated ? Math.round(cpu.allowed) : null,
      };
      results.push(result);
      log(
        `target ${fmt(rate)} spans/s: achieved ${fmt(result.achieved_spans_per_s)} spans/s; ${fmt(result.events)} events, ` +
          `commit -> subscriber p50 ${fmt(result.p50_ms, 1)} ms, p99 ${fmt(result.p99_ms, 1)} ms, max ${fmt(result.max_ms, 1)} ms` +
          `${result.p99_ms < 100 ? ' (p99 < 100 ms: ok)' : ' (p99 >= 100 ms: over target)'}; refused ${result.refused}, failed ${result.failed}, cut off ${result.cut_off}`,
      );
      log(
        `  CPU per span: agentrace ${fmt(cpu.agentrace, 1)} µs${split ? ` (receiver ${fmt(cpu.servers[0]!, 1)}, api ${fmt(cpu.servers[1]!, 1)})` : ''}, PostgreSQL ${fmt(cpu.postgres, 1)} µs, this bench ${fmt(cpu.bench, 1)} µs; ` +
          `machine ${fmt(cpu.busy * 100)}% busy` +
          (saturated
            ? `; at these costs ${CORES} cores allow ${fmt(cpu.allowed)} spans/s: the target is beyond this machine`
            : ''),
      );
    }
    log(JSON.stringify({ bench: 'stream', results }));
  } finally {
    await pool.end();
    if (api !== server) await api.stop();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** CPU seconds used so far by the server processes, PostgreSQL, this process and the whole machine. */
async function cpuSnapshot(serverPids: number[], postmasterPid: number) {
  const own = process.cpuUsage();
  const servers: number[] = [];
  for (const pid of serverPids) servers.push(await processCpuSeconds(pid));
  return {
    servers,
    postgres: await postgresCpuSeconds(postmasterPid),
    bench: (own.user + own.system) / 1e6,
    machine: await machineCpuSeconds(),
  };
}
type CpuSnapshot = Awaited<ReturnType<typeof cpuSnapshot>>;

/**
 * CPU µs per acknowledged span of each part between two snapshots, the machine's busy share, and the
 * rate those costs allow if every core did nothing else (the subscriber's rendering and this load
 * generator included: they are part of what the benchmark asks of the machine).
 */
function cpuPerSpan(before: CpuSnapshot, after: CpuSnapshot, spans: number) {
  const us = (seconds: number) => (seconds / Math.max(1, spans)) * 1e6;
  const servers = after.servers.map((cpu, i) => us(cpu - before.servers[i]!));
  const agentrace = servers.reduce((a, b) => a + b, 0);
  const postgres = us(after.postgres - before.postgres);
  const bench = us(after.bench - before.bench);
  const busy = (after.machine.busy - before.machine.busy) / (after.machine.total - before.machine.total);
  return {
    servers,
    agentrace,
    postgres,
    bench,
    busy,
    allowed: (CORES * 1e6) / (agentrace + postgres + bench),
  };
}

const CORES = availableParallelism();

/** When each commit was numbered, just before it committed (ms since the epoch), by its number. */
async function commitTimes(
  pool: ReturnType<typeof createPool>,
  commits: string[],
): Promise<Map<string, number>> {
  const { rows } = await pool.query<{ seq: string; at: number }>(
    `SELECT seq::text AS seq, extract(epoch FROM committed_at)::float8 * 1000 AS at
     FROM stream_commit WHERE seq = ANY($1::bigint[])`,
    [commits],
  );
  return new Map(rows.map((row) => [row.seq, row.at]));
}

await main();
