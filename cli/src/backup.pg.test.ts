import { Backup, listOf } from '@agentrace/schemas';
import { writeAgentRuns } from '@agentrace/store/testing';
import { startTestS3, type TestS3 } from '@agentrace/query-api/testing';
import pg from 'pg';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { backupCommand, backupsCommand, restoreCommand, BACKUP_FLAGS } from './backup.ts';
import { otlpRequest } from './testing/raw-otlp.ts';
import { runCommand } from './testing/run-command.ts';
import { startTestServer, type TestServer } from './testing/test-server.ts';

let s3: TestS3;
let s: TestServer;
let env: Record<string, string>;
const emptyDatabases: string[] = [];

beforeAll(async () => {
  s3 = await startTestS3();
  const bucket = s3.settings('backups/');
  env = {
    AGENTRACE_BACKUP_S3_BUCKET: bucket.bucket,
    AGENTRACE_BACKUP_S3_PREFIX: bucket.prefix,
    AGENTRACE_BACKUP_S3_ENDPOINT: bucket.endpoint!,
    AGENTRACE_BACKUP_S3_REGION: 'us-east-1',
    AGENTRACE_BACKUP_S3_ACCESS_KEY_ID: 'S3RVER',
    AGENTRACE_BACKUP_S3_SECRET_ACCESS_KEY: 'S3RVER',
    AGENTRACE_BACKUP_S3_FORCE_PATH_STYLE: 'true',
  };
  // With a schedule: the server backs up at start (none was taken within the hour), then not again.
  s = await startTestServer({ ...env, AGENTRACE_BACKUP_SCHEDULE: '1h' });
  env.DATABASE_URL = s.db.url;
});
afterAll(async () => {
  await s?.close();
  const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
  await admin.connect();
  for (const name of emptyDatabases) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
  await s3?.close();
});

const Backups = listOf(Backup);
const listed = async () => Backups.parse((await s.api('/v1/admin/backups')).body).data;

/** Polls `probe` every 50 ms until it answers something (vitest's waitUntil, with a test's patience). */
const waitFor = <T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 30_000) =>
  vi.waitUntil(probe, { timeout: timeoutMs, interval: 50 }).catch((err: Error) => {
    throw new Error(`waiting for ${what}: ${err.message}`);
  }) as Promise<T>;
const finished = (id: string) =>
  waitFor(`backup ${id}`, async () =>
    (await listed()).find((b) => b.backup_id === id && b.status !== 'running'),
  );

/** A database with nothing in it, not even our schema: what an operator makes to restore into. */
async function emptyDatabase(): Promise<string> {
  const name = `agentrace_empty_${Math.random().toString(16).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  emptyDatabases.push(name);
  const url = new URL(inject('adminDatabaseUrl'));
  url.pathname = `/${name}`;
  return url.toString();
}

describe('agentrace serve with AGENTRACE_BACKUP_SCHEDULE', () => {
  it('backs up at start when no backup was taken within the interval, and not again until it has passed', async () => {
    const scheduled = await waitFor('the scheduled backup', async () => (await listed())[0]);
    expect(scheduled.trigger).toBe('schedule');
    expect((await finished(scheduled.backup_id)).status).toBe('succeeded');
    const metrics = await (await fetch(`${s.apiUrl}/metrics`)).text();
    expect(metrics).toMatch(/^agentrace_backups_total\{result="succeeded"\} 1$/m);
    expect(metrics).toMatch(/^agentrace_backups_total\{result="failed"\} 0$/m);
  });
});

describe('a backup while agents are sending spans', () => {
  it('never blocks ingest: every export during the backup is acknowledged, quickly', async () => {
    await writeAgentRuns(s.db.pool, s, { runs: 400, stepsPerRun: 20 });
    const started = await s.api<{ backup_id: string; status: string }>('/v1/admin/backups', {
      method: 'POST',
    });
    expect(started.status).toBe(202);
    const id = started.body.backup_id;
    const latencies: number[] = [];
    let running = true;
    const done = finished(id).finally(() => {
      running = false;
    });
    const ingest = (async () => {
      while (running) {
        const t0 = performance.now();
        const res = await fetch(`${s.otlpUrl}/v1/traces`, {
          method: 'POST',
          headers: { authorization: `Bearer ${s.ingestKey}`, 'content-type': 'application/json' },
          body: JSON.stringify(otlpRequest(20).body),
        });
        expect(res.status).toBe(200);
        latencies.push(performance.now() - t0);
      }
    })();
    const backup = await done;
    await ingest;
    expect(backup.status).toBe('succeeded');
    expect(latencies.length).toBeGreaterThanOrEqual(5);
    expect(Math.max(...latencies)).toBeLessThan(2000);
    // The snapshot is one instant: what was ingested after it began is not in it, and is in the database.
    const { rows } = await s.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM step');
    expect(backup.table_rows!.step).toBeLessThan(rows[0]!.n);
    expect(backup.table_rows!.step).toBeGreaterThanOrEqual(400 * 20);
    expect(backup.compression_ratio!).toBeLessThanOrEqual(0.5);
  });
});

describe('the CLI', () => {
  let id: string;

  it('agentrace backup takes one now and prints its id, key and sizes', async () => {
    const out = await runCommand(backupCommand, ['backup'], BACKUP_FLAGS, env);
    expect(out.code).toBe(0);
    const match =
      /^backup ([0-9a-f-]{36}) succeeded: s3:\/\/agentrace-backups\/(backups\/\S+\.tar\.gz)$/m.exec(out.out);
    expect(match).not.toBeNull();
    id = match![1]!;
    expect(out.out).toMatch(/raw \d+ bytes, archive \d+ bytes \(ratio 0\.\d+\), sha256 sha256:[0-9a-f]{64}/);
    const json = await runCommand(backupCommand, ['backup', '--json'], BACKUP_FLAGS, env);
    expect(Backup.parse(JSON.parse(json.out))).toMatchObject({ status: 'succeeded', trigger: 'cli' });
  });

  it('agentrace backups list shows them newest first', async () => {
    const json = await runCommand(backupsCommand, ['backups', 'list', '--json'], BACKUP_FLAGS, env);
    const data = z.object({ data: z.array(Backup) }).parse(JSON.parse(json.out)).data;
    expect(data.map((b) => b.trigger)).toEqual(['cli', 'cli', 'api', 'schedule']);
    expect(data.map((b) => b.backup_id)).toContain(id);
    const text = await runCommand(backupsCommand, ['backups', 'list', '--limit', '2'], BACKUP_FLAGS, env);
    expect(text.out.split('\n')[0]).toMatch(/^backup_id\s+status\s+trigger/);
    expect(text.out.trim().split('\n')).toHaveLength(3);
    const bad = await runCommand(backupsCommand, ['backups', 'list', '--limit', '0'], BACKUP_FLAGS, env);
    expect([bad.code, bad.err]).toEqual([2, expect.stringMatching(/--limit/)]);
  });

  it('agentrace restore brings it into an empty database, verified, and refuses that database afterwards', async () => {
    const url = await emptyDatabase();
    const out = await runCommand(restoreCommand, ['restore', id, '--database-url', url], BACKUP_FLAGS, env);
    expect(out.code).toBe(0);
    expect(out.out).toMatch(new RegExp(`^restored backup ${id} `));
    expect(out.out).toMatch(/every row count and checksum verified/);
    expect(out.out).toMatch(/^step\s+\d+\s+\d+$/m);
    const restored = new pg.Client({ connectionString: url });
    await restored.connect();
    try {
      const count = `SELECT count(*)::int AS n, md5(string_agg(id::text, ',' ORDER BY id)) AS h FROM api_key`;
      expect((await restored.query(count)).rows[0]).toEqual((await s.db.pool.query(count)).rows[0]);
      // The source has gone on since (spans, later backups' audit rows): the restored data is as of the snapshot.
      for (const table of ['run', 'step', 'invocation', 'audit_log']) {
        const sql = `SELECT count(*)::int AS n FROM ${table}`;
        const [now, then] = [(await s.db.pool.query(sql)).rows[0].n, (await restored.query(sql)).rows[0].n];
        expect(then).toBeGreaterThan(0);
        expect(then).toBeLessThanOrEqual(now);
      }
      const migrations = await restored.query('SELECT count(*)::int AS n FROM schema_migration');
      expect(migrations.rows[0].n).toBeGreaterThanOrEqual(9);
    } finally {
      await restored.end();
    }
    // Not twice: the database is no longer empty.
    await expect(
      runCommand(restoreCommand, ['restore', id, '--database-url', url], BACKUP_FLAGS, env),
    ).rejects.toThrow(/not empty \(rows in /);
  });

  it('says what to set when no bucket is configured, and wants one backup to restore', async () => {
    const bare = { DATABASE_URL: s.db.url };
    await expect(runCommand(backupCommand, ['backup'], BACKUP_FLAGS, bare)).rejects.toThrow(
      /AGENTRACE_BACKUP_S3_BUCKET/,
    );
    const usage = await runCommand(restoreCommand, ['restore'], BACKUP_FLAGS, env);
    expect([usage.code, usage.err]).toEqual([2, expect.stringMatching(/usage: agentrace backup/)]);
  });
});
