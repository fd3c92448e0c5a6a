import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createScratchDatabase, type Pool, startEmbeddedPostgres } from '@agentrace/store';

export interface BenchDatabase {
  pool: Pool;
  url: string;
  /** The server's database that more databases can be created from. */
  adminUrl: string;
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
  const db = await createScratchDatabase(adminUrl, 'agentrace_bench', poolSize);
  return {
    pool: db.pool,
    url: db.url,
    adminUrl,
    async close() {
      await db.drop();
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
