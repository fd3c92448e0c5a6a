import { z } from 'zod';

/** A backup's state: `running` (being taken or uploaded), then `succeeded` or `failed`. */
export const BackupStatus = z.enum(['running', 'succeeded', 'failed']);
export type BackupStatus = z.infer<typeof BackupStatus>;

/** What started a backup: `POST /v1/admin/backups`, the schedule, or `agentrace backup`. */
export const BackupTrigger = z.enum(['api', 'schedule', 'cli']);
export type BackupTrigger = z.infer<typeof BackupTrigger>;

/** One backup as `GET /v1/admin/backups` lists it. Sizes and counts are null until it succeeded. */
export const Backup = z.object({
  backup_id: z.uuid(),
  status: BackupStatus,
  trigger: BackupTrigger,
  requested_by: z.uuid().nullable(),
  s3_key: z.string(),
  attempts: z.number().int(),
  error: z.string().nullable(),
  schema_version: z.number().int().nullable(),
  /** Rows per table in the snapshot. */
  table_rows: z.record(z.string(), z.number().int()).nullable(),
  /** Bytes of the tables' COPY text, before compression. */
  raw_bytes: z.number().int().nullable(),
  archive_bytes: z.number().int().nullable(),
  /** archive_bytes / raw_bytes. */
  compression_ratio: z.number().nullable(),
  archive_sha256: z.string().nullable(),
  created_at: z.string(),
  snapshot_at: z.string().nullable(),
  finished_at: z.string().nullable(),
});
export type Backup = z.infer<typeof Backup>;

/** The answer to `POST /v1/admin/backups` (202): the backup, still running. */
export const BackupStarted = Backup.pick({ backup_id: true, status: true });
export type BackupStarted = z.infer<typeof BackupStarted>;

/** `GET /v1/admin/backups` query string: newest first. */
export const BackupListQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    cursor: z.string().min(1).optional(),
  })
  .strict();
export type BackupListQuery = z.infer<typeof BackupListQuery>;

const Sha256 = z.string().regex(/^sha256:[0-9a-f]{64}$/);

/** One table of an archive: its columns in COPY order, and what its COPY text held. */
export const ManifestTable = z.object({
  name: z.string().regex(/^[a-z_][a-z0-9_]*$/),
  columns: z.array(z.string().regex(/^[a-z_][a-z0-9_]*$/)).min(1),
  rows: z.number().int().min(0),
  bytes: z.number().int().min(0),
  sha256: Sha256,
  /** How many `tables/<name>/NNNNNN.copy` entries hold it. */
  chunks: z.number().int().min(0),
});
export type ManifestTable = z.infer<typeof ManifestTable>;

/**
 * What an archive holds (`manifest.json`, its last entry, and beside it in the bucket as
 * `<key>.manifest.json` with `archive` filled in: the archive's own size, checksum and compression ratio).
 */
export const BackupManifest = z.object({
  format: z.literal('agentrace-backup'),
  format_version: z.literal(1),
  backup_id: z.uuid(),
  created_at: z.string(),
  snapshot_at: z.string(),
  /** The newest migration applied to the database. */
  schema_version: z.number().int().positive(),
  /** Every migration applied (`NNN_name`): a restore applies exactly these before loading. */
  migrations: z.array(z.string()),
  compression: z.enum(['gzip', 'zstd']),
  /** In load order: a table comes after those its foreign keys point to. */
  tables: z.array(ManifestTable),
  /** Sequences and where they stood when the snapshot was taken. */
  sequences: z.array(z.object({ name: z.string(), last_value: z.string(), is_called: z.boolean() })),
  raw_bytes: z.number().int().min(0),
  archive: z
    .object({ bytes: z.number().int().min(0), sha256: Sha256, compression_ratio: z.number().min(0) })
    .optional(),
});
export type BackupManifest = z.infer<typeof BackupManifest>;
