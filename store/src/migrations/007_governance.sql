-- Policies, approvals and the decision signing key (DESIGN §6, issue 7).

-- A policy version is never edited: a change is a new version. One version per project is active.
CREATE TABLE policy (
  tenant_id uuid NOT NULL REFERENCES tenant (id),
  id uuid NOT NULL,
  project_id uuid NOT NULL,
  version integer NOT NULL CHECK (version > 0),
  document jsonb NOT NULL,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  active boolean NOT NULL DEFAULT false,
  activated_at timestamptz,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (project_id) REFERENCES project (id),
  UNIQUE (tenant_id, project_id, version)
);
CREATE UNIQUE INDEX policy_one_active ON policy (tenant_id, project_id) WHERE active;
SELECT agentrace_secure_tenant_table('policy');
-- Only the active flag moves; the document and its version stay as written.
REVOKE UPDATE, DELETE ON policy FROM agentrace_app;
GRANT UPDATE (active, activated_at) ON policy TO agentrace_app;

-- A tool call waiting for a person: pending until approved, denied or past expires_at.
CREATE TABLE approval (
  tenant_id uuid NOT NULL REFERENCES tenant (id),
  id uuid NOT NULL,
  project_id uuid NOT NULL,
  run_id uuid NOT NULL,
  policy_id uuid NOT NULL,
  rule_id text,
  tool_name text NOT NULL,
  args jsonb NOT NULL,
  args_sha256 text NOT NULL,
  requested_by uuid,
  status text NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired')),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  decided_by uuid,
  decided_at timestamptz,
  comment text,
  token_id uuid,
  token text,
  PRIMARY KEY (tenant_id, id)
);
-- GET /v1/approvals?status=: newest first.
CREATE INDEX approval_status ON approval (tenant_id, status, created_at DESC);
SELECT agentrace_secure_tenant_table('approval');
REVOKE DELETE ON approval FROM agentrace_app;

-- The server's Ed25519 key pair that signs DecisionTokens; not per tenant, read by the owner only.
-- A rotation retires the current key (its public key stays to verify tokens it signed) and adds one.
CREATE TABLE decision_signing_key (
  id uuid PRIMARY KEY,
  public_key text NOT NULL,
  private_key text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  retired_at timestamptz
);
CREATE UNIQUE INDEX decision_signing_key_current ON decision_signing_key ((true)) WHERE retired_at IS NULL;
