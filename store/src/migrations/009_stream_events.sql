-- The live stream's events (GET /v1/stream, issue 8): one row per step created, run touched and approval
-- changed, written in the transaction that made the change; NOTIFY only wakes the readers. Rows hold
-- references, not documents: the reader renders the object as the query API would.
--
-- Order and cursor: (commit, id). Ids are drawn before commit, so ids alone become visible out of order.
-- Each transaction that writes events also writes one stream_commit row, numbered at its commit by a
-- deferred trigger under a transaction-scoped advisory lock: PostgreSQL releases the lock only after the
-- commit is visible, so commit numbers become visible in order, and a reader that has seen number n has
-- seen every commit before it. Nothing else orders or holds back the log (a long transaction elsewhere
-- on the server does not delay it).
CREATE TABLE stream_commit (
  xid xid8 PRIMARY KEY DEFAULT pg_current_xact_id(),
  -- Null only inside the writing transaction, until its commit numbers it.
  seq bigint UNIQUE,
  -- Just before the commit: pruning and the latency benchmark.
  committed_at timestamptz
);
CREATE SEQUENCE stream_commit_seq;

CREATE TABLE stream_event (
  -- The stream_commit row of its transaction (no foreign key: a check per event row, for nothing).
  xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  id bigint GENERATED ALWAYS AS IDENTITY,
  tenant_id uuid NOT NULL,
  project_id uuid NOT NULL,
  run_id uuid NOT NULL,
  trace_id bytea,
  type text NOT NULL CHECK (type IN ('step.created', 'run.updated', 'approval.updated')),
  object_id uuid NOT NULL,
  PRIMARY KEY (xid, id)
);
SELECT agentrace_secure_tenant_table('stream_event');
-- Approvals are written as the application role; events are appended, never changed. Only the owner's
-- pruning deletes them.
REVOKE UPDATE, DELETE ON stream_event FROM agentrace_app;
-- No tenant data: transaction ids, numbers and times. The application role records its commits.
GRANT SELECT, INSERT ON stream_commit TO agentrace_app;

-- Numbers the commit. SECURITY DEFINER: the application role may not renumber commits itself.
CREATE FUNCTION stream_number_commit() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path FROM CURRENT AS $$
BEGIN
  -- One key for the whole log: the commits that write events take their numbers one at a time.
  PERFORM pg_advisory_xact_lock(7346290118);
  UPDATE stream_commit SET seq = nextval('stream_commit_seq'), committed_at = clock_timestamp()
  WHERE xid = NEW.xid;
  RETURN NULL;
END
$$;
REVOKE EXECUTE ON FUNCTION stream_number_commit() FROM PUBLIC;
CREATE CONSTRAINT TRIGGER stream_number_commit AFTER INSERT ON stream_commit
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION stream_number_commit();

-- Where pruning cut the log (the newest event pruned): a resume from before it would have a gap.
-- One row once something was pruned; none before.
CREATE TABLE stream_horizon (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  seq bigint NOT NULL,
  id bigint NOT NULL
);
