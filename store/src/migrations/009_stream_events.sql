-- The live stream's events (GET /v1/stream, issue 8): one row per step created, run touched and approval
-- changed, written in the transaction that made the change; NOTIFY only wakes the readers. Rows hold
-- references, not documents: the reader renders the object as the query API would.
--
-- Order and cursor: (xid, id). An identity id is drawn before commit, so ids alone become visible out of
-- order; readers deliver only rows whose transaction is older than every transaction still running
-- (xid < pg_snapshot_xmin(pg_current_snapshot())), which no later commit can precede.
CREATE TABLE stream_event (
  xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  id bigint GENERATED ALWAYS AS IDENTITY,
  tenant_id uuid NOT NULL,
  project_id uuid NOT NULL,
  run_id uuid NOT NULL,
  trace_id bytea,
  type text NOT NULL CHECK (type IN ('step.created', 'run.updated', 'approval.updated')),
  object_id uuid NOT NULL,
  -- At the end of the writing transaction, just before its commit: pruning and the latency benchmark.
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (xid, id)
);
SELECT agentrace_secure_tenant_table('stream_event');
-- Approvals are written as the application role; events are appended, never changed. Only the owner's
-- pruning deletes them.
REVOKE UPDATE, DELETE ON stream_event FROM agentrace_app;

-- Where pruning cut the events (the newest cursor pruned): a resume from before it would have a gap.
-- One row once something was pruned; none before.
CREATE TABLE stream_horizon (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  xid xid8 NOT NULL,
  id bigint NOT NULL
);
