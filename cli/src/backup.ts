import {
  BACKUPS_NOT_CONFIGURED,
  BackupAlreadyRunning,
  BackupBucket,
  BackupMetrics,
  BackupService,
  type BucketSettings,
  restoreBackup,
} from '@agentrace/query-api';
import { Registry } from '@agentrace/receiver';
import type { Backup } from '@agentrace/schemas';
import { listBackups } from '@agentrace/store';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { CommandFlags, Config } from './config.ts';
import { openDatabase } from './database.ts';
import { textTable } from './text-table.ts';

/** The flags of `agentrace backups list`. */
export const BACKUP_FLAGS: CommandFlags = { limit: { type: 'string' } };

export const BACKUP_USAGE = `usage: agentrace backup [--json]
       agentrace backups list [--limit N] [--json]
       agentrace restore BACKUP_ID|S3_KEY [--database-url URL] [--json]`;

/** The bucket of the settings, for a command that needs one: an error saying what to set when none is. */
function configuredBucket(config: Config): BucketSettings {
  const settings = bucketSettingsOf(config);
  if (!settings) throw new Error(BACKUPS_NOT_CONFIGURED);
  return settings;
}

/** The bucket of the `AGENTRACE_BACKUP_S3_*` settings; null when no bucket is set. */
export function bucketSettingsOf(config: Config): BucketSettings | null {
  if (!config.backupS3Bucket) return null;
  return {
    bucket: config.backupS3Bucket,
    prefix: config.backupS3Prefix,
    endpoint: config.backupS3Endpoint,
    region: config.backupS3Region,
    accessKeyId: config.backupS3AccessKeyId,
    secretAccessKey: config.backupS3SecretAccessKey,
    forcePathStyle: config.backupS3ForcePathStyle,
  };
}

const usage = (problem: string) => {
  process.stderr.write(`${problem}\n${BACKUP_USAGE}\n`);
  return 2;
};

/**
 * `agentrace backup`: takes a backup now (as the schedule and the API do, with retries) and waits for it;
 * prints its id, key and sizes. Exit code 0 when it succeeded, 1 when it failed or another one runs.
 */
export async function backupCommand(
  config: Config,
  logger: Logger,
  args: string[],
  _flags: Record<string, string | undefined>,
  json: boolean,
): Promise<number> {
  if (args.length > 0) return usage(`unexpected argument ${args[0]}`);
  const settings = configuredBucket(config);
  const bucket = new BackupBucket(settings);
  const db = await openDatabase(config, logger, 2);
  const service = new BackupService({
    pool: db.pool,
    bucket,
    logger,
    metrics: new BackupMetrics(new Registry()),
  });
  try {
    const { backup, done } = await service.start('cli', null);
    if (!json)
      process.stderr.write(
        `backup ${backup.backup_id}: uploading to s3://${settings.bucket}/${backup.s3_key}\n`,
      );
    const final = await done;
    process.stdout.write(json ? `${JSON.stringify(final)}\n` : describeBackup(final, settings.bucket));
    return final.status === 'succeeded' ? 0 : 1;
  } catch (err) {
    if (!(err instanceof BackupAlreadyRunning)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 1;
  } finally {
    await service.close();
    bucket.destroy();
    await db.close();
  }
}

const ListFlags = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(20) });

/** `agentrace backups list`: the backups, newest first, as a table or `{ data }`. */
export async function backupsCommand(
  config: Config,
  logger: Logger,
  args: string[],
  flags: Record<string, string | undefined>,
  json: boolean,
): Promise<number> {
  const parsed = ListFlags.safeParse(flags);
  if (args[0] !== 'list' || args.length > 1) return usage('agentrace backups: the subcommand is list');
  if (!parsed.success) return usage('--limit: must be a number from 1 to 1000');
  const db = await openDatabase(config, logger, 2);
  try {
    const { data } = await listBackups(db.pool, parsed.data.limit, null);
    if (json) {
      process.stdout.write(`${JSON.stringify({ data })}\n`);
      return 0;
    }
    const rows = data.map((b) => [
      b.backup_id,
      b.status,
      b.trigger,
      b.created_at,
      b.attempts,
      b.table_rows ? Object.values(b.table_rows).reduce((a, n) => a + n, 0) : null,
      b.raw_bytes,
      b.archive_bytes,
      b.compression_ratio === null ? null : Number(b.compression_ratio.toFixed(3)),
      b.s3_key,
      b.error,
    ]);
    process.stdout.write(
      textTable(
        [
          'backup_id',
          'status',
          'trigger',
          'created_at',
          'attempts',
          'rows',
          'raw_bytes',
          'archive_bytes',
          'ratio',
          's3_key',
          'error',
        ],
        rows,
      ),
    );
    return 0;
  } finally {
    await db.close();
  }
}

/**
 * `agentrace restore BACKUP_ID|S3_KEY`: restores a backup from the bucket into the database of
 * `--database-url` (or the data dir's embedded one), which must be empty; prints what it loaded.
 */
export async function restoreCommand(
  config: Config,
  logger: Logger,
  args: string[],
  _flags: Record<string, string | undefined>,
  json: boolean,
): Promise<number> {
  if (args.length !== 1) return usage('agentrace restore: name one backup (its id or its archive key)');
  const settings = configuredBucket(config);
  const bucket = new BackupBucket(settings);
  const db = await openDatabase(config, logger, 2, { migrate: false });
  try {
    const report = await restoreBackup(bucket, args[0]!, db.pool);
    if (json) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
      return 0;
    }
    const rows = report.tables.reduce((sum, t) => sum + t.rows, 0);
    process.stdout.write(
      `restored backup ${report.backup_id} (snapshot ${report.snapshot_at}, schema ${report.schema_version}) from s3://${settings.bucket}/${report.s3_key}\n` +
        `${report.tables.length} tables, ${rows} rows, ${report.sequences} sequences, every row count and checksum verified, in ${report.duration_ms} ms\n` +
        textTable(
          ['table', 'rows', 'bytes'],
          report.tables.map((t) => [t.name, t.rows, t.bytes]),
        ),
    );
    return 0;
  } finally {
    bucket.destroy();
    await db.close();
  }
}

function describeBackup(b: Backup, bucket: string): string {
  if (b.status !== 'succeeded')
    return `backup ${b.backup_id} ${b.status} after ${b.attempts} attempts: ${b.error}\n`;
  const rows = Object.values(b.table_rows ?? {}).reduce((a, n) => a + n, 0);
  return [
    `backup ${b.backup_id} succeeded: s3://${bucket}/${b.s3_key}`,
    `  ${Object.keys(b.table_rows ?? {}).length} tables, ${rows} rows, snapshot at ${b.snapshot_at}`,
    `  raw ${b.raw_bytes} bytes, archive ${b.archive_bytes} bytes (ratio ${b.compression_ratio?.toFixed(3)}), sha256 ${b.archive_sha256}`,
    '',
  ].join('\n');
}
