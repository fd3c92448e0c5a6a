-- Binding "approved" to "executed" (DESIGN §6, issue 7): every DecisionToken the server issues is recorded,
-- and a tool step that presents one uses it up; a step that breaks the binding is flagged, its run counts it.

CREATE TABLE decision_token (
  tenant_id uuid NOT NULL REFERENCES tenant (id),
  id uuid NOT NULL,
  project_id uuid NOT NULL,
  run_id uuid NOT NULL,
  tool_name text NOT NULL,
  args_sha256 text NOT NULL,
  break_glass boolean NOT NULL DEFAULT false,
  approval_id uuid,
  issued_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  -- Set once, by the ingest writer, when the first tool step that matches it is stored.
  used_at timestamptz,
  used_by_step uuid,
  PRIMARY KEY (tenant_id, id)
);
SELECT agentrace_secure_tenant_table('decision_token');
-- The application role only issues tokens; using one up is the ingest writer's (the owner's) job.
REVOKE UPDATE, DELETE ON decision_token FROM agentrace_app;

-- Why a tool step broke the binding (null: it did not): missing_token, unknown_token, run_mismatch,
-- tool_mismatch, args_mismatch, token_reused.
ALTER TABLE step ADD COLUMN governance_violation text;
ALTER TABLE run ADD COLUMN governance_violations integer NOT NULL DEFAULT 0;
