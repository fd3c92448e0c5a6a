-- Keys, row-level security, the audit log and retention (DESIGN §6, issue 6).

-- Keys may expire; a key past expires_at authenticates no more, like a revoked one.
ALTER TABLE api_key ADD COLUMN expires_at timestamptz;

-- Per-project retention: runs older than this many days are deleted by the retention job (NULL: kept).
ALTER TABLE project ADD COLUMN retention_days integer CHECK (retention_days > 0);

-- The audit log: append-only and hash-chained per tenant. hash = sha256 over the canonical JSON of the
-- row's fields and prev_hash, so an edited, inserted or deleted row breaks the chain where it happened.
CREATE TABLE audit_log (
  tenant_id uuid NOT NULL REFERENCES tenant (id),
  seq bigint NOT NULL,
  id uuid NOT NULL UNIQUE,
  ts timestamptz NOT NULL,
  actor_key_id uuid,
  action text NOT NULL,
  target text,
  details jsonb NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL,
  -- GET /v1/audit reads newest first on it; verify walks it in seq order.
  PRIMARY KEY (tenant_id, seq)
);
-- Audit retention finds where a tenant's rows stop being old enough to delete.
CREATE INDEX audit_log_age ON audit_log (tenant_id, ts);

-- The end of each tenant's chain. Appends lock this row (serializing them per tenant) and move it, so a
-- deleted or forged newest row is caught too; pruned_* is where audit retention cut the chain's start.
CREATE TABLE audit_head (
  tenant_id uuid PRIMARY KEY REFERENCES tenant (id),
  seq bigint NOT NULL,
  hash text NOT NULL,
  pruned_through_seq bigint NOT NULL DEFAULT 0,
  pruned_hash text NOT NULL
);

-- The application role. Query-API requests run as it (SET LOCAL ROLE) with their tenant in
-- agentrace.tenant_id, so a query that forgot its tenant filter still sees only its own tenant. NOLOGIN:
-- it is only ever assumed by the migrating user, which therefore must be a member. Roles are per cluster,
-- so databases on one server share it; a concurrent migration of another database may create it first.
DO $$
DECLARE
  grant_hint text := format('as a superuser: GRANT agentrace_app TO %I', current_user);
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'agentrace_app') THEN
    BEGIN
      CREATE ROLE agentrace_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    EXCEPTION
      WHEN duplicate_object OR unique_violation THEN NULL;
      WHEN insufficient_privilege THEN
        RAISE EXCEPTION 'role agentrace_app is missing and user % may not create it', current_user
          USING HINT = 'as a superuser: CREATE ROLE agentrace_app NOLOGIN; then ' || grant_hint;
    END;
  END IF;
  -- From PostgreSQL 16 on, a membership may lack the SET option that SET ROLE needs.
  IF NOT pg_has_role(current_user, 'agentrace_app',
                     CASE WHEN current_setting('server_version_num')::int >= 160000 THEN 'SET' ELSE 'MEMBER' END) THEN
    BEGIN
      EXECUTE format('GRANT agentrace_app TO %I', current_user);
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE EXCEPTION 'user % must be able to SET ROLE agentrace_app', current_user USING HINT = grant_hint;
    END;
  END IF;
END
$$;

-- Row-level security on a tenant table: the application role sees and writes only the rows of the
-- tenant in agentrace.tenant_id, and none when it is unset. The owner (ingest writer, retention,
-- authentication, which work across tenants) is not subject to it: no FORCE, the role owns nothing.
-- Later migrations call it for each new tenant table.
CREATE FUNCTION agentrace_secure_tenant_table(tbl regclass, tenant_column name DEFAULT 'tenant_id')
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
  EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON %s', tbl);
  EXECUTE format(
    'CREATE POLICY tenant_isolation ON %s USING (%I = nullif(current_setting(''agentrace.tenant_id'', true), '''')::uuid)',
    tbl, tenant_column);
  EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO agentrace_app', tbl);
END
$$;
REVOKE EXECUTE ON FUNCTION agentrace_secure_tenant_table(regclass, name) FROM PUBLIC;

-- Every table with a tenant_id that exists now (including those of earlier migrations), and tenant itself.
DO $$
DECLARE
  tbl regclass;
BEGIN
  FOR tbl IN
    SELECT c.oid::regclass FROM pg_class c
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
    WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
  LOOP
    PERFORM agentrace_secure_tenant_table(tbl);
  END LOOP;
END
$$;
SELECT agentrace_secure_tenant_table('tenant', 'id');

-- Append-only at the database level too: the application role may add audit rows, never change or
-- remove them. Only the owner's retention job deletes rows older than the audit retention.
REVOKE UPDATE, DELETE ON audit_log FROM agentrace_app;
REVOKE DELETE ON audit_head FROM agentrace_app;
-- A tenant is created and named by operators, never through a tenant's own requests.
REVOKE INSERT, UPDATE, DELETE ON tenant FROM agentrace_app;
