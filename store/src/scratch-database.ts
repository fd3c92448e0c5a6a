import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPool } from './connection.ts';
import { migrate } from './migrate.ts';

export interface ScratchDatabase {
  url: string;
  pool: pg.Pool;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/**
 * A fresh, migrated database on the server of `adminUrl` (a database there we may CREATE DATABASE from),
 * for a test file or a benchmark run.
 * @example const db = await createScratchDatabase(url, 'agentrace_test'); ...; await db.drop();
 */
export async function createScratchDatabase(adminUrl: string, prefix: string, poolSize = 10): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const pool = createPool(url.toString(), poolSize);
  await migrate(pool);
  return {
    url: url.toString(),
    pool,
    async drop() {
      await pool.end();
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}
