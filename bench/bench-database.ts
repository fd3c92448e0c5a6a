import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createPool, migrate, type Pool, startEmbeddedPostgres } from '@agentrace/store';
import pg from 'pg';

export interface BenchDatabase {
  pool: Pool;
  url: string;
  close(): Promise<void>;
}

/**
 * A fresh, migrated database for a benchmark: on the server DATABASE_URL names (dropped afterwards), or
 * on an embedded PostgreSQL in a temporary directory (removed afterwards).
 */
export async function openBenchDatabase(poolSize = 8): Promise<BenchDatabase> {
  const given = process.env.DATABASE_URL || undefined;
  let dataDir: string | null = null;
  let stopServer: () => Promise<void> = async () => undefined;
  let adminUrl: string;
  if (given) adminUrl = given;
  else {
    dataDir = await mkdtemp(path.join(tmpdir(), 'agentrace-bench-'));
    const server = await startEmbeddedPostgres({ dataDir, database: 'postgres' });
    adminUrl = server.url;
    stopServer = server.stop;
  }
  const name = `agentrace_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const pool = createPool(url.toString(), poolSize);
  await migrate(pool);
  return {
    pool,
    url: url.toString(),
    async close() {
      await pool.end();
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
      await stopServer();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The p-quantile (0..1) of `samples`, nearest rank. */
export function quantile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/** Times `fn` `runs` times after `warmup` untimed calls; milliseconds per call. */
export async function timeIt(
  fn: () => Promise<unknown> | unknown,
  runs: number,
  warmup = 2,
): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  return samples;
}
