import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectOutsidePool } from './connection.ts';
import { CopyDigest } from './copy-digest.ts';
import { takeSnapshot } from './snapshot.ts';
import { createTenant } from './tenancy.ts';
import { createTestDatabase, type TestDatabase } from './testing/test-database.ts';
import { writeAgentRuns } from './testing/agent-runs.ts';

let db: TestDatabase;
let tenant: Awaited<ReturnType<typeof createTenant>>;

beforeAll(async () => {
  db = await createTestDatabase();
  tenant = await createTenant(db.pool, 'snapshots');
  await writeAgentRuns(db.pool, tenant, { runs: 30, stepsPerRun: 10 });
});
afterAll(async () => {
  await db?.drop();
});

const discard = () => new Writable({ write: (_chunk, _encoding, done) => done() });

describe('takeSnapshot', () => {
  it('reads every table as of one instant: rows committed while it runs are not in it', async () => {
    const client = await connectOutsidePool(db.pool);
    const seen: Record<string, number> = {};
    try {
      const info = await takeSnapshot(client, async (table, rows) => {
        // Runs written by another connection after the snapshot began, before this table is read.
        if (table.name === 'project') await writeAgentRuns(db.pool, tenant, { runs: 5, stepsPerRun: 10 });
        const digest = new CopyDigest();
        await pipeline(rows, digest, discard());
        seen[table.name] = digest.result().rows;
      });
      expect(seen).toMatchObject({ run: 30, step: 300, tenant: 1 });
      const now = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM run');
      expect(now.rows[0]!.n).toBe(35);
      expect(info.migrations[0]).toBe('001_init');
      expect(info.schemaVersion).toBe(Number(info.migrations.at(-1)!.slice(0, 3)));
      const names = info.tables.map((t) => t.name);
      expect(names).not.toContain('schema_migration');
      expect(names.indexOf('tenant')).toBeLessThan(names.indexOf('audit_log'));
      expect(info.tables.find((t) => t.name === 'run')!.columns.slice(0, 3)).toEqual([
        'tenant_id',
        'id',
        'project_id',
      ]);
    } finally {
      await client.end();
    }
  });

  it('ends promptly when the consumer fails mid-table, once the caller closes the connection', async () => {
    const client = await connectOutsidePool(db.pool);
    const failure = new Error('the upload stopped');
    const started = performance.now();
    await expect(
      takeSnapshot(client, async (table, rows) => {
        if (table.name !== 'step') return void (await pipeline(rows, discard()));
        for await (const _chunk of rows) {
          void client.end();
          throw failure;
        }
      }),
    ).rejects.toBe(failure);
    expect(performance.now() - started).toBeLessThan(5000);
    // The database is not left with the transaction open (the server sees the closed socket shortly after).
    const openTransactions = async () =>
      (
        await db.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`,
        )
      ).rows[0]!.n;
    await expect.poll(openTransactions, { timeout: 3000 }).toBe(0);
  });
});
