-- Backups (issue 8): one row per backup of the whole database (every tenant), uploaded to S3. Not a tenant
-- table: only the owner role reads and writes it, for the operator tenant's admins and the CLI.
CREATE TABLE backup (
  id uuid PRIMARY KEY,
  status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
  -- What started it: POST /v1/admin/backups, the schedule, or `agentrace backup`.
  trigger text NOT NULL CHECK (trigger IN ('api', 'schedule', 'cli')),
  requested_by uuid,
  s3_key text NOT NULL,
  -- Upload attempts over its life: a failed backup is tried again on the next scheduled cycle.
  attempts integer NOT NULL DEFAULT 0,
  error text,
  schema_version integer,
  -- Rows per table of the snapshot: { "run": 120, "step": 4000, ... }.
  table_rows jsonb,
  raw_bytes bigint,
  archive_bytes bigint,
  compression_ratio double precision,
  archive_sha256 text,
  created_at timestamptz NOT NULL DEFAULT now(),
  snapshot_at timestamptz,
  finished_at timestamptz
);
-- GET /v1/admin/backups: newest first.
CREATE INDEX backup_created ON backup (created_at DESC, id);
