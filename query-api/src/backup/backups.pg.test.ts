import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AuditRecord, Backup, BackupManifest, ErrorEnvelope, listOf } from '@agentrace/schemas';
import {
  createScratchDatabase,
  createTenant,
  getBackup,
  issueKey,
  listAudit,
  type NewTenant,
  RestoreRefused,
  type ScratchDatabase,
  withTenant,
  writeSteps,
} from '@agentrace/store';
import { createTestDatabase, stepRecord, type TestDatabase, writeAgentRuns } from '@agentrace/store/testing';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { type ListeningQueryApp, listenQueryApp } from '../testing/listen-query-app.ts';
import { startCuttingProxy } from '../testing/cutting-proxy.ts';
import { startTestS3, type TestS3 } from '../testing/s3-server.ts';
import { BackupBucket } from './backup-bucket.ts';
import { BackupMetrics } from './backup-metrics.ts';
import { BackupService } from './backup-service.ts';
import { ArchiveMismatch, restoreBackup } from './restore-backup.ts';

let db: TestDatabase;
let s3: TestS3;
let bucket: BackupBucket;
let registry: Registry;
let service: BackupService;
let app: ListeningQueryApp;
let operator: NewTenant;
let customer: NewTenant;
let runIds: string[];
const scratch: ScratchDatabase[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  s3 = await startTestS3();
  bucket = new BackupBucket(s3.settings());
  operator = await createTenant(db.pool, 'operator');
  customer = await createTenant(db.pool, 'customer');
  runIds = await writeAgentRuns(db.pool, operator, { runs: 40, stepsPerRun: 12 });
  await writeAgentRuns(db.pool, customer, { runs: 10, stepsPerRun: 6 });
  registry = new Registry();
  service = new BackupService({
    pool: db.pool,
    bucket,
    logger: pino({ level: 'silent' }),
    metrics: new BackupMetrics(registry),
    retry: { attempts: 12, firstDelayMs: 250 },
  });
  app = await listenQueryApp(db.pool, { backups: service });
});
afterAll(async () => {
  await service?.close();
  await app?.close();
  bucket?.destroy();
  await Promise.all(scratch.map((d) => d.drop()));
  await s3?.close();
  await db?.drop();
});

async function call(base: string, method: string, path: string, key = operator.adminKey.key) {
  const res = await fetch(base + path, { method, headers: { authorization: `Bearer ${key}` } });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as unknown };
}
const api = (method: string, path: string, key?: string) => call(app.base, method, path, key);
const errorOf = (body: unknown) => ErrorEnvelope.parse(body).error;
const Backups = listOf(Backup);

/** Polls `probe` every 50 ms until it answers something (vitest's waitUntil, with a test's patience). */
const waitFor = <T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 20_000) =>
  vi.waitUntil(probe, { timeout: timeoutMs, interval: 50 }).catch((err: Error) => {
    throw new Error(`waiting for ${what}: ${err.message}`);
  }) as Promise<T>;
const finished = (id: string) =>
  waitFor(`backup ${id} to finish`, async () => {
    const b = await getBackup(db.pool, id);
    return b && b.status !== 'running' ? b : null;
  });
async function freshDatabase(): Promise<ScratchDatabase> {
  const d = await createScratchDatabase(inject('adminDatabaseUrl'), 'agentrace_restore');
  scratch.push(d);
  return d;
}
async function metric(name: string, labels = ''): Promise<number> {
  const line = (await registry.metrics()).split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line ? Number(line.split(' ')[1]) : Number.NaN;
}
async function s3Object(key: string): Promise<Buffer> {
  const client = new S3Client(clientConfig());
  try {
    const { Body } = await client.send(new GetObjectCommand({ Bucket: s3.settings().bucket, Key: key }));
    return Buffer.from(await Body!.transformToByteArray());
  } finally {
    client.destroy();
  }
}
async function putS3Object(key: string, body: Buffer | string): Promise<void> {
  const client = new S3Client(clientConfig());
  try {
    await client.send(new PutObjectCommand({ Bucket: s3.settings().bucket, Key: key, Body: body }));
  } finally {
    client.destroy();
  }
}
function clientConfig() {
  const s = s3.settings();
  return {
    endpoint: s.endpoint,
    region: s.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s.accessKeyId!, secretAccessKey: s.secretAccessKey! },
  };
}

let first: Backup;

describe('POST /v1/admin/backups', () => {
  it('answers 202 at once, then the backup is listed with its sizes and table counts', async () => {
    const started = await api('POST', '/v1/admin/backups');
    expect(started.status).toBe(202);
    const { backup_id, status } = started.body as { backup_id: string; status: string };
    expect(status).toBe('running');
    first = await finished(backup_id);
    expect(first).toMatchObject({ status: 'succeeded', trigger: 'api', attempts: 1, error: null });
    expect(first.requested_by).toBe(operator.adminKey.keyId);
    expect(first.table_rows).toMatchObject({ run: 50, step: 40 * 12 + 10 * 6, tenant: 2 });
    expect(first.s3_key).toMatch(new RegExp(`^agentrace/\\d{8}T\\d{6}Z-${backup_id}\\.tar\\.gz$`));

    const listed = Backups.parse((await api('GET', '/v1/admin/backups')).body).data;
    expect(listed[0]).toEqual(first);
    expect(await metric('agentrace_backups_total', '{result="succeeded"}')).toBe(1);
    expect(await metric('agentrace_backup_last_size_bytes')).toBe(first.archive_bytes);
  });

  it('makes an archive at most half the size of the raw COPY text, and records the ratio in the manifest', async () => {
    const manifest = BackupManifest.parse(
      JSON.parse((await s3Object(`${first.s3_key}.manifest.json`)).toString()),
    );
    const archive = await s3Object(first.s3_key);
    expect(manifest.archive!.bytes).toBe(archive.length);
    expect(manifest.raw_bytes).toBe(first.raw_bytes);
    expect(manifest.raw_bytes).toBe(manifest.tables.reduce((sum, t) => sum + t.bytes, 0));
    expect(manifest.raw_bytes).toBeGreaterThan(500_000);
    expect(manifest.archive!.compression_ratio).toBeCloseTo(archive.length / manifest.raw_bytes, 6);
    expect(manifest.archive!.compression_ratio).toBeLessThanOrEqual(0.5);
    expect(first.compression_ratio).toBeCloseTo(manifest.archive!.compression_ratio, 6);
    expect(manifest).toMatchObject({
      format: 'agentrace-backup',
      compression: 'gzip',
      backup_id: first.backup_id,
    });
    expect(manifest.schema_version).toBeGreaterThanOrEqual(10);
    // Parents before the tables whose foreign keys point to them; no migrations ledger, no backup records.
    const order = manifest.tables.map((t) => t.name);
    expect(order.indexOf('tenant')).toBeLessThan(order.indexOf('project'));
    expect(order.indexOf('project')).toBeLessThan(order.indexOf('api_key'));
    expect(order).not.toContain('schema_migration');
    expect(order).not.toContain('backup');
  });

  it('audits the request and the upload in the operator tenant', async () => {
    const audit = await withTenant(db.pool, operator.tenantId, (tx) =>
      listAudit(tx, operator.tenantId, { limit: 100 }, null),
    );
    const rows = listOf(AuditRecord)
      .parse(audit)
      .data.filter((r) => r.target === first.backup_id);
    expect(rows.map((r) => r.action)).toEqual(['backup.succeeded', 'backup.requested']);
    expect(rows[1]!.actor_key_id).toBe(operator.adminKey.keyId);
  });

  it.each([
    ['no key', undefined, 401, 'unauthenticated'],
    ['a viewer', 'viewer', 403, 'permission_denied'],
    ["another tenant's admin", 'customer', 403, 'permission_denied'],
  ])('refuses %s', async (_who, as, status, code) => {
    let key: string | undefined;
    if (as === 'viewer') {
      key = (await withTenant(db.pool, operator.tenantId, (tx) =>
        issueKey(tx, { tenantId: operator.tenantId, kind: 'user', role: 'viewer' }, null),
      ))!.key;
    } else if (as === 'customer') key = customer.adminKey.key;
    for (const method of ['POST', 'GET']) {
      const res = await fetch(`${app.base}/v1/admin/backups`, {
        method,
        headers: key ? { authorization: `Bearer ${key}` } : {},
      });
      expect([res.status, errorOf(await res.json()).code]).toEqual([status, code]);
    }
    if (as === 'customer') {
      const res = await api('POST', '/v1/admin/backups', customer.adminKey.key);
      expect(errorOf(res.body).message).toMatch(/operator/);
    }
  });

  it('is a 409 saying what to set when no bucket is configured, and a 400 for unknown parameters', async () => {
    const bare = await listenQueryApp(db.pool);
    try {
      const res = await call(bare.base, 'POST', '/v1/admin/backups');
      expect(res.status).toBe(409);
      expect(errorOf(res.body)).toMatchObject({ code: 'conflict', retryable: false });
      expect(errorOf(res.body).message).toMatch(/AGENTRACE_BACKUP_S3_BUCKET/);
    } finally {
      await bare.close();
    }
    const bad = await api('GET', '/v1/admin/backups?limit=0&since=x');
    expect(bad.status).toBe(400);
    expect(errorOf(bad.body).details).toMatchObject({
      limit: expect.any(String),
      since: 'unknown parameter',
    });
  });
});

describe('restore', () => {
  it('brings a backup into a fresh database: the query API answers the same before and after', async () => {
    const target = await freshDatabase();
    const report = await restoreBackup(bucket, first.backup_id, target.pool);
    expect(report).toMatchObject({ backup_id: first.backup_id, s3_key: first.s3_key });
    expect(Object.fromEntries(report.tables.map((t) => [t.name, t.rows]))).toEqual(first.table_rows);

    const restored = await listenQueryApp(target.pool);
    try {
      const paths = [
        '/v1/runs?limit=1000',
        `/v1/runs/${runIds[7]}`,
        `/v1/runs/${runIds[7]}/timeline`,
        `/v1/runs/${runIds[7]}/steps`,
        '/v1/invocations?limit=50',
        '/v1/invocations/stats?group_by=tool',
        '/v1/invocations/stats?group_by=model',
        '/v1/cost?group_by=model',
      ];
      for (const path of paths) {
        const before = await api('GET', path);
        const after = await call(restored.base, 'GET', path, operator.adminKey.key);
        expect(before.status, path).toBe(200);
        expect(after, path).toEqual(before);
      }
      // The customer's audit chain is unchanged since; the operator's has grown by this backup's rows.
      const customerVerify = await call(restored.base, 'GET', '/v1/audit:verify', customer.adminKey.key);
      expect(customerVerify).toEqual(await api('GET', '/v1/audit:verify', customer.adminKey.key));
      expect(customerVerify.body).toMatchObject({ ok: true, problems: [] });
      const operatorVerify = (await call(restored.base, 'GET', '/v1/audit:verify')).body;
      expect(operatorVerify).toMatchObject({ ok: true, problems: [] });
    } finally {
      await restored.close();
    }
  });

  it('refuses a database that is not empty, before writing anything', async () => {
    await expect(restoreBackup(bucket, first.backup_id, db.pool)).rejects.toThrow(RestoreRefused);
    await expect(restoreBackup(bucket, first.backup_id, db.pool)).rejects.toThrow(
      /not empty \(rows in .*run/,
    );
  });

  it('takes the archive key as well as the id, and refuses an unknown backup', async () => {
    const target = await freshDatabase();
    const report = await restoreBackup(bucket, first.s3_key, target.pool);
    expect(report.backup_id).toBe(first.backup_id);
    await expect(restoreBackup(bucket, '00000000-0000-4000-8000-000000000000', target.pool)).rejects.toThrow(
      /no backup 00000000/,
    );
  });

  it('refuses an archive made with migrations this code does not have, before migrating', async () => {
    const manifest = JSON.parse((await s3Object(`${first.s3_key}.manifest.json`)).toString());
    manifest.migrations.push('999_from_the_future');
    const key = first.s3_key.replace('agentrace/', 'agentrace/future-');
    await putS3Object(`${key}.manifest.json`, JSON.stringify(manifest));
    const target = await freshDatabase();
    await expect(restoreBackup(bucket, key, target.pool)).rejects.toThrow(
      /migrations this agentrace does not have \(999_from_the_future\)/,
    );
  });

  it('detects a truncated archive and leaves the database empty', async () => {
    const archive = await s3Object(first.s3_key);
    const key = first.s3_key.replace('agentrace/', 'agentrace/truncated-');
    await putS3Object(key, archive.subarray(0, Math.floor(archive.length / 2)));
    await putS3Object(`${key}.manifest.json`, await s3Object(`${first.s3_key}.manifest.json`));
    const target = await freshDatabase();
    await expect(restoreBackup(bucket, key, target.pool)).rejects.toThrow();
    expect((await target.pool.query('SELECT count(*)::int AS n FROM run')).rows[0].n).toBe(0);
  });

  it('detects a changed row even when the archive checksum was forged to match', async () => {
    const tar = gunzipSync(await s3Object(first.s3_key));
    const at = tar.indexOf('lisbon');
    expect(at).toBeGreaterThan(0);
    tar.write('lisbom', at);
    const forged = gzipSync(tar);
    const manifest = BackupManifest.parse(
      JSON.parse((await s3Object(`${first.s3_key}.manifest.json`)).toString()),
    );
    manifest.archive = {
      ...manifest.archive!,
      bytes: forged.length,
      sha256: `sha256:${createHash('sha256').update(forged).digest('hex')}`,
    };
    const key = first.s3_key.replace('agentrace/', 'agentrace/forged-');
    await putS3Object(key, forged);
    await putS3Object(`${key}.manifest.json`, JSON.stringify(manifest));
    const target = await freshDatabase();
    const failure = restoreBackup(bucket, key, target.pool);
    await expect(failure).rejects.toThrow(ArchiveMismatch);
    await expect(restoreBackup(bucket, key, target.pool)).rejects.toThrow(
      /table \w+ in the archive: .* the manifest says/,
    );
    expect((await target.pool.query('SELECT count(*)::int AS n FROM tenant')).rows[0].n).toBe(0);
  });
});

describe('a failed upload', () => {
  it('is logged, audited and retried with backoff until the S3 server is back, then succeeds', async () => {
    await s3.stop();
    let id: string;
    try {
      const started = await api('POST', '/v1/admin/backups');
      expect(started.status).toBe(202);
      id = (started.body as { backup_id: string }).backup_id;
      // One backup at a time: another request meanwhile is a 409 naming the running one.
      const second = await api('POST', '/v1/admin/backups');
      expect([second.status, errorOf(second.body).details]).toEqual([409, { backup_id: id }]);
      const failing = await waitFor('two failed attempts', async () => {
        const b = await getBackup(db.pool, id);
        return b && b.attempts >= 3 && b.error ? b : null;
      });
      expect(failing.status).toBe('running');
      expect(failing.error).toMatch(/ECONNREFUSED|connect/i);
    } finally {
      await s3.start();
    }
    const done = await finished(id);
    expect(done).toMatchObject({ status: 'succeeded', error: null });
    expect(done.attempts).toBeGreaterThanOrEqual(3);
    const audit = await withTenant(db.pool, operator.tenantId, (tx) =>
      listAudit(tx, operator.tenantId, { limit: 100, action: 'backup.attempt_failed' }, null),
    );
    const failures = audit.data.filter((r) => r.target === id);
    expect(failures.length).toBe(done.attempts - 1);
    expect(failures.at(-1)!.details).toMatchObject({ attempt: 1, retry_in_ms: 250 });
    // What it uploaded restores.
    const target = await freshDatabase();
    expect((await restoreBackup(bucket, id, target.pool)).backup_id).toBe(id);
  });
});

describe('GET /v1/admin/backups', () => {
  it('pages newest first with a cursor, and refuses a cursor that is not one', async () => {
    const all = Backups.parse((await api('GET', '/v1/admin/backups')).body).data;
    expect(all.length).toBeGreaterThanOrEqual(2);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = Backups.parse(
        (await api('GET', `/v1/admin/backups?limit=1${cursor ? `&cursor=${cursor}` : ''}`)).body,
      );
      expect(page.data.length).toBe(1);
      seen.push(page.data[0]!.backup_id);
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual(all.map((b) => b.backup_id));
    const bad = await api('GET', '/v1/admin/backups?cursor=nope');
    expect([bad.status, errorOf(bad.body).details]).toEqual([400, { cursor: expect.any(String) }]);
  });
});

describe('an upload cut off in the middle of a multipart upload', () => {
  it('fails that attempt without hanging (the snapshot stops, its connection closes), and the retry uploads a whole archive', async () => {
    const big = await createTestDatabase();
    const proxy = await startCuttingProxy(Number(new URL(s3.settings().endpoint!).port), 3 * 1024 * 1024);
    const cutBucket = new BackupBucket({
      ...s3.settings('cut/'),
      endpoint: `http://127.0.0.1:${proxy.port}`,
    });
    const cutService = new BackupService({
      pool: big.pool,
      bucket: cutBucket,
      logger: pino({ level: 'silent' }),
      metrics: new BackupMetrics(new Registry()),
      retry: { attempts: 6, firstDelayMs: 300 },
    });
    try {
      const t = await createTenant(big.pool, 'big');
      // Random payloads hardly compress: an archive of several 8 MiB parts, still being written when the first is sent.
      for (let batch = 0; batch < 5; batch++) {
        const runId = randomUUID();
        await writeSteps(
          big.pool,
          Array.from({ length: 500 }, () =>
            stepRecord({
              ...t,
              runId,
              payloadJson: JSON.stringify({ output: randomBytes(8192).toString('base64') }),
            }),
          ),
        );
      }
      const { backup, done } = await cutService.start('cli', null);
      await proxy.cut;
      const failed = await waitFor('the cut attempt to fail', async () => {
        const b = await getBackup(big.pool, backup.backup_id);
        return b?.error ? b : null;
      });
      expect(failed).toMatchObject({ status: 'running', attempts: 1 });
      // Nothing of the failed attempt is left open on the database.
      const open = await big.pool.query(
        `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'COPY%' AND state <> 'idle'`,
      );
      expect(open.rowCount).toBe(0);
      await proxy.heal();
      const final = await done;
      expect(final).toMatchObject({ status: 'succeeded', error: null });
      expect(final.attempts).toBeGreaterThanOrEqual(2);
      expect(final.archive_bytes!).toBeGreaterThan(16 * 1024 * 1024);
      const target = await freshDatabase();
      const report = await restoreBackup(
        new BackupBucket(s3.settings('cut/')),
        backup.backup_id,
        target.pool,
      );
      expect(report.tables.find((x) => x.name === 'step')!.rows).toBe(2500);
    } finally {
      await cutService.close();
      cutBucket.destroy();
      await proxy.close();
      await big.drop();
    }
  }, 60_000);
});

describe('the schedule', () => {
  it('backs up only when no backup started or ended within the interval, and retries a failed one on its next cycle', async () => {
    expect(await service.startScheduled(3_600_000)).toBeNull();
    const once = new BackupService({
      pool: db.pool,
      bucket,
      logger: pino({ level: 'silent' }),
      metrics: new BackupMetrics(new Registry()),
      retry: { attempts: 1, firstDelayMs: 10 },
    });
    try {
      await s3.stop();
      const failed = await (await once.startScheduled(1))!;
      expect(failed).toMatchObject({ status: 'failed', trigger: 'schedule', attempts: 1 });
      expect(failed.error).toBeTruthy();
      await s3.start();
      const retried = await (await once.startScheduled(1))!;
      expect(retried).toMatchObject({
        backup_id: failed.backup_id,
        status: 'succeeded',
        attempts: 2,
        error: null,
      });
      expect(await once.startScheduled(3_600_000)).toBeNull();
    } finally {
      await once.close();
    }
  });
});
