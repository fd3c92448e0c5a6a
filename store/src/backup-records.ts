import type { Backup, BackupTrigger } from '@agentrace/schemas';
import type { Queryable } from './connection.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { toApiTime } from './row-mappers.ts';
import type { Page } from './run-queries.ts';
import { TIMESTAMP_TEXT } from './sql-fragments.ts';

// Any constant: held (session-level) by the connection of the one backup running across all processes.
const BACKUP_LOCK_KEY = 7_461_302_010;

const BACKUP_COLUMNS = `id AS backup_id, status, trigger, requested_by, s3_key, attempts, error, schema_version,
  table_rows, raw_bytes, archive_bytes, compression_ratio, archive_sha256,
  ${TIMESTAMP_TEXT('created_at')} AS created_at, ${TIMESTAMP_TEXT('snapshot_at')} AS snapshot_at,
  ${TIMESTAMP_TEXT('finished_at')} AS finished_at`;

const toBackup = (row: Backup): Backup => ({
  ...row,
  created_at: toApiTime(row.created_at),
  snapshot_at: row.snapshot_at && toApiTime(row.snapshot_at),
  finished_at: row.finished_at && toApiTime(row.finished_at),
});

/**
 * Takes the backup lock on this session if nobody holds it: true when taken. Whoever holds it is the one
 * backup running, so a `running` row left by a process that died is marked failed here.
 */
export async function tryLockBackups(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
    BACKUP_LOCK_KEY,
  ]);
  if (!rows[0]!.locked) return false;
  await db.query(
    `UPDATE backup SET status = 'failed', finished_at = now(),
       error = coalesce(error || '; ', '') || 'interrupted: the process taking it stopped'
     WHERE status = 'running'`,
  );
  return true;
}

export async function unlockBackups(db: Queryable): Promise<void> {
  await db.query('SELECT pg_advisory_unlock($1)', [BACKUP_LOCK_KEY]);
}

/** The running backup (another process's, when the lock is not ours), if any. */
export async function runningBackup(db: Queryable): Promise<Backup | null> {
  const { rows } = await db.query<Backup>(
    `SELECT ${BACKUP_COLUMNS} FROM backup WHERE status = 'running' ORDER BY created_at DESC LIMIT 1`,
  );
  return rows[0] ? toBackup(rows[0]) : null;
}

/** Records a new backup as running (no attempt yet). */
export async function createBackupRecord(
  db: Queryable,
  spec: { id: string; trigger: BackupTrigger; requestedBy: string | null; s3Key: string },
): Promise<Backup> {
  const { rows } = await db.query<Backup>(
    `INSERT INTO backup (id, status, trigger, requested_by, s3_key) VALUES ($1, 'running', $2, $3, $4)
     RETURNING ${BACKUP_COLUMNS}`,
    [spec.id, spec.trigger, spec.requestedBy, spec.s3Key],
  );
  return toBackup(rows[0]!);
}

/** Counts an attempt (the backup running again, when it is a retry of a failed one). */
export async function startBackupAttempt(db: Queryable, id: string): Promise<number> {
  const { rows } = await db.query<{ attempts: number }>(
    `UPDATE backup SET status = 'running', attempts = attempts + 1, finished_at = NULL WHERE id = $1
     RETURNING attempts`,
    [id],
  );
  return rows[0]!.attempts;
}

/** Records why the latest attempt failed (the backup stays running while it is retried, else fails). */
export async function recordBackupError(
  db: Queryable,
  id: string,
  error: string,
  final: boolean,
): Promise<void> {
  await db.query(
    `UPDATE backup SET error = $2, status = CASE WHEN $3 THEN 'failed' ELSE status END,
       finished_at = CASE WHEN $3 THEN now() ELSE NULL END
     WHERE id = $1`,
    [id, error, final],
  );
}

/** What a successful backup uploaded. */
export interface BackupOutcome {
  schemaVersion: number;
  tableRows: Record<string, number>;
  rawBytes: number;
  archiveBytes: number;
  archiveSha256: string;
  snapshotAt: string;
}

export async function recordBackupSuccess(db: Queryable, id: string, o: BackupOutcome): Promise<Backup> {
  const { rows } = await db.query<Backup>(
    `UPDATE backup SET status = 'succeeded', error = NULL, finished_at = now(), schema_version = $2,
       table_rows = $3, raw_bytes = $4::bigint, archive_bytes = $5::bigint,
       compression_ratio = CASE WHEN $4::bigint > 0 THEN $5::float8 / $4::bigint END, archive_sha256 = $6,
       snapshot_at = $7
     WHERE id = $1 RETURNING ${BACKUP_COLUMNS}`,
    [
      id,
      o.schemaVersion,
      JSON.stringify(o.tableRows),
      o.rawBytes,
      o.archiveBytes,
      o.archiveSha256,
      o.snapshotAt,
    ],
  );
  return toBackup(rows[0]!);
}

export async function getBackup(db: Queryable, id: string): Promise<Backup | null> {
  const { rows } = await db.query<Backup>(`SELECT ${BACKUP_COLUMNS} FROM backup WHERE id = $1`, [id]);
  return rows[0] ? toBackup(rows[0]) : null;
}

/** Decodes a `GET /v1/admin/backups` cursor, or null when it is not one of ours. */
export function decodeBackupCursor(cursor: string): { at: string; id: string } | null {
  const value = decodeCursor(cursor);
  return value &&
    typeof value.at === 'string' &&
    typeof value.id === 'string' &&
    !Number.isNaN(Date.parse(value.at))
    ? { at: value.at, id: value.id }
    : null;
}

/** Backups newest first, after `after` when paging. */
export async function listBackups(
  db: Queryable,
  limit: number,
  after: { at: string; id: string } | null,
): Promise<Page<Backup>> {
  const { rows } = await db.query<Backup>(
    `SELECT ${BACKUP_COLUMNS} FROM backup
     WHERE $1::timestamptz IS NULL OR (created_at, id) < ($1::timestamptz, $2::uuid)
     ORDER BY created_at DESC, id DESC LIMIT $3`,
    [after?.at ?? null, after?.id ?? null, limit + 1],
  );
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  // The cursor keeps the microseconds the API's times drop, so no row of the same millisecond is skipped.
  const last = page.at(-1);
  return {
    data: page.map(toBackup),
    next_cursor: more && last ? encodeCursor({ at: last.created_at, id: last.backup_id }) : null,
  };
}

/**
 * Whether the schedule should back up now: no backup started or ended within `intervalMs` (so a success
 * is followed by the next one an interval later, and a failure is tried again an interval after it
 * failed: on the next cycle). Then, if the newest backup failed, it is the one to try again (its attempts
 * go on counting), else a new one is due.
 */
export async function scheduledBackupDue(
  db: Queryable,
  intervalMs: number,
): Promise<{ due: false } | { due: true; retry: Backup | null }> {
  const recent = await db.query(
    `SELECT 1 FROM backup
     WHERE greatest(created_at, finished_at) > now() - make_interval(secs => $1) LIMIT 1`,
    [intervalMs / 1000],
  );
  if (recent.rowCount) return { due: false };
  const { rows } = await db.query<Backup>(
    `SELECT ${BACKUP_COLUMNS} FROM backup ORDER BY created_at DESC, id DESC LIMIT 1`,
  );
  const newest = rows[0] ? toBackup(rows[0]) : null;
  return { due: true, retry: newest?.status === 'failed' ? newest : null };
}

/**
 * The operator's tenant: the first tenant there is (the one the first `agentrace serve`
 * creates). Backups hold every tenant's data, so only its admins may take or list them over the API.
 */
export async function operatorTenantId(db: Queryable): Promise<string | null> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM tenant ORDER BY created_at, id LIMIT 1');
  return rows[0]?.id ?? null;
}
