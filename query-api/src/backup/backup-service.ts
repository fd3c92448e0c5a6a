import { pipeline } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import type { Backup, BackupManifest, BackupTrigger, ManifestTable } from '@agentrace/schemas';
import {
  appendAudit,
  type BackupOutcome,
  type Client,
  CopyDigest,
  connectOutsidePool,
  createBackupRecord,
  getBackup,
  inTransaction,
  operatorTenantId,
  type Pool,
  type PoolClient,
  recordBackupError,
  recordBackupSuccess,
  runningBackup,
  scheduledBackupDue,
  startBackupAttempt,
  takeSnapshot,
  tryLockBackups,
  unlockBackups,
} from '@agentrace/store';
import type { Logger } from 'pino';
import { ArchiveWriter } from './archive-writer.ts';
import type { BackupBucket } from './backup-bucket.ts';
import type { BackupMetrics } from './backup-metrics.ts';
import { ARCHIVE_COMPRESSION } from './compression.ts';

/** Another backup is running (in this process or another): one at a time. */
export class BackupAlreadyRunning extends Error {
  constructor(readonly running: Backup | null) {
    super(`${running ? `backup ${running.backup_id}` : 'a backup'} is running: one backup at a time`);
  }
}

export interface BackupServiceOptions {
  pool: Pool;
  bucket: BackupBucket;
  logger: Logger;
  metrics: BackupMetrics;
  /** Attempts per cycle, and the delay before the first retry (doubled before each next one). */
  retry?: { attempts: number; firstDelayMs: number };
}

const DEFAULT_RETRY = { attempts: 4, firstDelayMs: 2000 };

/**
 * Takes backups in the background: a snapshot of every table (one repeatable-read transaction on a
 * connection of its own, so ingest is never blocked) streamed through a compressed archive into the
 * bucket. A failed attempt is logged, audited and retried with exponential backoff; a backup whose
 * attempts all failed is failed, and the schedule tries it again on its next cycle. One backup runs at a
 * time across all processes (a PostgreSQL advisory lock, held for the backup's whole life).
 * @example const { backup, done } = await service.start('api', { tenantId, keyId });
 */
export class BackupService {
  private readonly inFlight = new Set<Promise<Backup>>();
  private readonly stopping = new AbortController();
  private readonly retry: { attempts: number; firstDelayMs: number };

  constructor(private readonly options: BackupServiceOptions) {
    this.retry = options.retry ?? DEFAULT_RETRY;
  }

  /**
   * Starts a new backup and answers its record (running) at once; `done` resolves with its final record.
   * Throws BackupAlreadyRunning when one is running.
   */
  async start(
    trigger: Exclude<BackupTrigger, 'schedule'>,
    requestedBy: string | null,
  ): Promise<{ backup: Backup; done: Promise<Backup> }> {
    const lock = await this.lock();
    if (!lock) throw new BackupAlreadyRunning(await runningBackup(this.options.pool));
    try {
      const backup = await this.create(trigger, requestedBy);
      return { backup, done: this.launch(backup, lock) };
    } catch (err) {
      await release(lock);
      throw err;
    }
  }

  /**
   * One check of the schedule: when no backup started or ended within `intervalMs`, retries the newest
   * backup if it failed, else starts a new one; answers its `done`, or null when none was due or one is
   * running.
   */
  async startScheduled(intervalMs: number): Promise<Promise<Backup> | null> {
    const lock = await this.lock();
    if (!lock) return null;
    try {
      const due = await scheduledBackupDue(this.options.pool, intervalMs);
      if (!due.due) {
        await release(lock);
        return null;
      }
      return this.launch(due.retry ?? (await this.create('schedule', null)), lock);
    } catch (err) {
      await release(lock);
      throw err;
    }
  }

  /** No more retries; waits for the attempts in progress to end. */
  async close(): Promise<void> {
    this.stopping.abort();
    await Promise.allSettled([...this.inFlight]);
  }

  /** A connection holding the backup lock, or null when another holds it. */
  private async lock(): Promise<Client | null> {
    const client = await connectOutsidePool(this.options.pool);
    try {
      if (await tryLockBackups(client)) return client;
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    await client.end().catch(() => undefined);
    return null;
  }

  private create(trigger: BackupTrigger, requestedBy: string | null): Promise<Backup> {
    const id = randomUUID();
    const s3Key = this.options.bucket.archiveKey(id, new Date().toISOString(), ARCHIVE_COMPRESSION);
    return inTransaction(this.options.pool, async (tx) => {
      const backup = await createBackupRecord(tx, { id, trigger, requestedBy, s3Key });
      await audit(tx, requestedBy, 'backup.requested', id, { trigger, s3_key: s3Key });
      return backup;
    });
  }

  private launch(backup: Backup, lock: Client): Promise<Backup> {
    const done = this.run(backup).finally(() => {
      this.inFlight.delete(done);
      return release(lock);
    });
    this.inFlight.add(done);
    // The caller may not wait for it (POST answers 202 at once). Failed attempts are logged in run(); this
    // is run() itself failing: its bookkeeping could not be written (the database went away, say).
    done.catch((err: unknown) =>
      this.options.logger.error(
        { backupId: backup.backup_id, err },
        'backup stopped: its record could not be updated',
      ),
    );
    return done;
  }

  /** Attempts until one succeeds or the cycle's attempts are spent; resolves with the final record. */
  private async run(backup: Backup): Promise<Backup> {
    const { pool, logger, metrics } = this.options;
    const id = backup.backup_id;
    for (let n = 1; ; n++) {
      const attempt = await startBackupAttempt(pool, id);
      const started = performance.now();
      try {
        const outcome = await this.attempt(backup);
        const seconds = (performance.now() - started) / 1000;
        const done = await inTransaction(pool, async (tx) => {
          await audit(tx, null, 'backup.succeeded', id, {
            s3_key: backup.s3_key,
            attempt,
            raw_bytes: outcome.rawBytes,
            archive_bytes: outcome.archiveBytes,
            archive_sha256: outcome.archiveSha256,
          });
          return recordBackupSuccess(tx, id, outcome);
        });
        metrics.succeeded(seconds, outcome.archiveBytes);
        logger.info(
          {
            backupId: id,
            s3Key: backup.s3_key,
            attempt,
            rawBytes: outcome.rawBytes,
            archiveBytes: outcome.archiveBytes,
            seconds,
          },
          'backup uploaded',
        );
        return done;
      } catch (err) {
        const error = (err as Error).message || String(err);
        const final = n >= this.retry.attempts || this.stopping.signal.aborted;
        const retryInMs = this.retry.firstDelayMs * 2 ** (n - 1);
        if (final) logger.error({ backupId: id, s3Key: backup.s3_key, attempt, error }, 'backup failed');
        else
          logger.warn(
            { backupId: id, s3Key: backup.s3_key, attempt, error, retryInMs },
            'backup attempt failed; retrying',
          );
        await inTransaction(pool, async (tx) => {
          await recordBackupError(tx, id, error, final);
          await audit(tx, null, final ? 'backup.failed' : 'backup.attempt_failed', id, {
            s3_key: backup.s3_key,
            attempt,
            error,
            ...(final ? {} : { retry_in_ms: retryInMs }),
          });
        });
        if (final) {
          metrics.failed();
          return (await getBackup(pool, id))!;
        }
        await sleep(retryInMs, undefined, { signal: this.stopping.signal }).catch(() => undefined);
      }
    }
  }

  /** One snapshot, archived and uploaded as it is read; then the manifest beside it. */
  private async attempt(backup: Backup): Promise<BackupOutcome> {
    const { pool, bucket } = this.options;
    const client = await connectOutsidePool(pool);
    const writer = new ArchiveWriter(ARCHIVE_COMPRESSION);
    const archive = new CopyDigest();
    const body = pipeline(writer.output, archive, () => undefined);
    const uploaded = bucket.upload(backup.s3_key, body);
    // An upload that fails stops reading: stop writing too, instead of waiting on back-pressure forever.
    uploaded.catch((err: Error) => writer.destroy(err));
    try {
      const tables: ManifestTable[] = [];
      const snapshot = await takeSnapshot(client, async (table, rows) => {
        try {
          tables.push(await writer.addTable(table, rows));
        } catch (err) {
          // The connection is mid-COPY: only closing it ends the statement.
          void client.end().catch(() => undefined);
          throw err;
        }
      });
      const rawBytes = tables.reduce((sum, t) => sum + t.bytes, 0);
      const manifest: BackupManifest = {
        format: 'agentrace-backup',
        format_version: 1,
        backup_id: backup.backup_id,
        created_at: backup.created_at,
        snapshot_at: snapshot.snapshotAt,
        schema_version: snapshot.schemaVersion,
        migrations: snapshot.migrations,
        compression: ARCHIVE_COMPRESSION,
        tables,
        sequences: snapshot.sequences,
        raw_bytes: rawBytes,
      };
      await writer.finish(manifest);
      await uploaded;
      const { bytes, sha256 } = archive.result();
      const compressionRatio = rawBytes > 0 ? bytes / rawBytes : 0;
      await bucket.putManifest(backup.s3_key, {
        ...manifest,
        archive: { bytes, sha256, compression_ratio: compressionRatio },
      });
      return {
        schemaVersion: snapshot.schemaVersion,
        tableRows: Object.fromEntries(tables.map((t) => [t.name, t.rows])),
        rawBytes,
        archiveBytes: bytes,
        archiveSha256: sha256,
        snapshotAt: snapshot.snapshotAt,
      };
    } catch (err) {
      writer.destroy(err as Error);
      await uploaded.catch(() => undefined);
      throw err;
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

/** Backups are the operator's: their audit rows go to the operator tenant's chain (none on an empty database). */
async function audit(
  tx: PoolClient,
  actorKeyId: string | null,
  action: string,
  backupId: string,
  details: Record<string, unknown>,
): Promise<void> {
  const tenantId = await operatorTenantId(tx);
  if (tenantId) await appendAudit(tx, { tenantId, actorKeyId, action, target: backupId, details });
}

async function release(lock: Client): Promise<void> {
  await unlockBackups(lock).catch(() => undefined);
  await lock.end().catch(() => undefined);
}
