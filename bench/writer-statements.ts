/**
 * Where the ingest writer's time goes, statement by statement (`tsx bench/writer-statements.ts`).
 *
 * Normalizes realistic agent batches with the receiver's own code (not timed), then writes them with the
 * store's `writeSteps` as the server does (WRITERS concurrent transactions of BATCH_SPANS spans each) on
 * a fresh embedded PostgreSQL, or a fresh database of DATABASE_URL's server, timing every statement: the
 * synchronous part of `client.query` (building and serializing the parameters in Node) apart from the
 * wait for PostgreSQL's answer. Environment: SPANS (102400), BATCH_SPANS (1024), WRITERS (2).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { DEFAULT_REDACTION_RULES, decodeProtobuf, normalizeRequest, Pricing } from '@agentrace/receiver';
import {
  createPool,
  migrate,
  type Pool,
  type PoolClient,
  type StepRecord,
  startEmbeddedPostgres,
  writeSteps,
} from '@agentrace/store';
import { z } from 'zod';
import { embeddedPostmasterPid, postgresCpuSeconds } from './server-process.ts';
import { AgentSpanFactory, encodeRequest } from './span-factory.ts';

const env = z
  .object({
    SPANS: z.coerce.number().int().positive().default(102_400),
    BATCH_SPANS: z.coerce.number().int().positive().default(1024),
    WRITERS: z.coerce.number().int().positive().default(2),
    DATABASE_URL: z.string().url().optional(),
  })
  .parse(Object.fromEntries(Object.entries(process.env).map(([k, v]) => [k, v === '' ? undefined : v])));

interface Timing {
  calls: number;
  syncMs: number;
  totalMs: number;
}
const timings = new Map<string, Timing>();

/** A short name for a statement: its verb and table (`INSERT step`, `SELECT run FOR UPDATE`, `WITH … UPDATE run`). */
function statementName(sql: string): string {
  const flat = sql.replace(/\s+/g, ' ').trim();
  if (/^(BEGIN|COMMIT|ROLLBACK)/i.test(flat)) return flat.split(' ')[0]!.toUpperCase();
  const verb = flat.split(' ')[0]!.toUpperCase();
  const table = /(?:INSERT INTO|UPDATE|FROM)\s+(\w+)/i.exec(flat)?.[1] ?? '?';
  const forUpdate = /FOR UPDATE/i.test(flat) ? ' FOR UPDATE' : '';
  if (verb === 'WITH') {
    const write = /(INSERT|UPDATE)(?: INTO)? (\w+)/i.exec(flat);
    return write ? `WITH … ${write[1]!.toUpperCase()} ${write[2]}` : 'WITH …';
  }
  return `${verb} ${table}${forUpdate}`;
}

/** A pool whose clients time each statement. */
function timingPool(pool: Pool): Pool {
  const wrap = (client: PoolClient): PoolClient => {
    const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
    const record = (name: string, t0: number, t1: number) => {
      const t = timings.get(name) ?? { calls: 0, syncMs: 0, totalMs: 0 };
      t.calls++;
      t.syncMs += t1 - t0;
      t.totalMs += performance.now() - t0;
      timings.set(name, t);
    };
    const timed = (...args: unknown[]) => {
      const t0 = performance.now();
      // A COPY (pg-copy-streams) is a stream, not a promise: timed from the call until it finishes.
      if (args[0] instanceof Writable) {
        const stream = query(...args) as unknown as Writable;
        const t1 = performance.now();
        stream.once('finish', () => record('COPY (chunks)', t0, t1));
        return stream;
      }
      // A named (prepared) statement by its name, which tells apart two UPDATEs of one table.
      const config = args[0] as string | { text?: string; name?: string };
      const name =
        typeof config === 'string'
          ? statementName(config)
          : (config.name ?? statementName(String(config.text)));
      const pending = query(...args);
      const t1 = performance.now();
      return pending.finally(() => record(name, t0, t1));
    };
    return new Proxy(client, {
      get: (target, prop) => (prop === 'query' ? timed : Reflect.get(target, prop)),
    });
  };
  return new Proxy(pool, {
    get: (target, prop) =>
      prop === 'connect' ? async () => wrap(await target.connect()) : Reflect.get(target, prop),
  });
}

async function main(): Promise<void> {
  let url: string;
  let stop: () => Promise<unknown>;
  let postmasterPid: number | null = null;
  if (env.DATABASE_URL) {
    const database = `agentrace_writer_${randomBytes(4).toString('hex')}`;
    const admin = createPool(env.DATABASE_URL, 1);
    await admin.query(`CREATE DATABASE ${database}`);
    const u = new URL(env.DATABASE_URL);
    u.pathname = `/${database}`;
    url = u.toString();
    stop = async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.end();
    };
  } else {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'agentrace-writer-'));
    const db = await startEmbeddedPostgres({ dataDir });
    url = db.url;
    postmasterPid = await embeddedPostmasterPid(dataDir);
    stop = async () => {
      await db.stop();
      await rm(dataDir, { recursive: true, force: true });
    };
  }
  const pool = createPool(url, env.WRITERS + 1);
  try {
    await migrate(pool);
    const factory = new AgentSpanFactory(512);
    const ctx = {
      tenantId: '00000000-0000-4000-8000-000000000001',
      projectId: '00000000-0000-4000-8000-000000000002',
      pricing: Pricing.load(),
      redaction: DEFAULT_REDACTION_RULES,
    };
    const batches: StepRecord[][] = [];
    let current: StepRecord[] = [];
    for (let spans = 0; spans < env.SPANS; spans += 512) {
      current.push(...normalizeRequest(ctx, decodeProtobuf(encodeRequest(factory.nextRequest()))).records);
      if (current.length >= env.BATCH_SPANS) {
        batches.push(current);
        current = [];
      }
    }
    if (current.length > 0) batches.push(current);
    const total = batches.reduce((a, b) => a + b.length, 0);

    const timed = timingPool(pool);
    const pgBefore = postmasterPid === null ? null : await postgresCpuSeconds(postmasterPid);
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: env.WRITERS }, async () => {
        for (let i = next++; i < batches.length; i = next++) await writeSteps(timed, batches[i]!);
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const pgAfter = postmasterPid === null ? null : await postgresCpuSeconds(postmasterPid);

    const us = (ms: number) => ((ms * 1000) / total).toFixed(1).padStart(7);
    process.stdout.write(
      `${total} spans in ${batches.length} transactions of ≤${env.BATCH_SPANS}, ${env.WRITERS} writers: ${seconds.toFixed(2)} s = ` +
        `${Math.round(total / seconds)} spans/s; Node ${(((cpu.user + cpu.system) / 1e3 / total) * 1000).toFixed(1)} µs CPU per span` +
        (pgBefore !== null && pgAfter !== null
          ? `, PostgreSQL ${(((pgAfter - pgBefore) / total) * 1e6).toFixed(1)} µs CPU per span`
          : '') +
        '\n\nstatement                               calls   µs/span total   µs/span in Node (params)\n',
    );
    for (const [name, t] of [...timings].sort((a, b) => b[1].totalMs - a[1].totalMs)) {
      process.stdout.write(
        `${name.padEnd(40)}${String(t.calls).padStart(5)}   ${us(t.totalMs)}         ${us(t.syncMs)}\n`,
      );
    }
  } finally {
    await pool.end();
    await stop();
  }
}

await main();
