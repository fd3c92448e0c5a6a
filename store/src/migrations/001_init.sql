-- The core data model (DESIGN §3). Every table carries tenant_id and every query filters on it.

CREATE TABLE tenant (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE project (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenant (id),
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name)
);

CREATE TABLE api_key (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenant (id),
  project_id uuid REFERENCES project (id),
  kind text NOT NULL CHECK (kind IN ('ingest', 'user')),
  role text CHECK (role IN ('viewer', 'approver', 'admin')),
  secret_hash bytea NOT NULL UNIQUE,
  display_prefix text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at timestamptz,
  CHECK ((kind = 'ingest' AND project_id IS NOT NULL AND role IS NULL) OR (kind = 'user' AND role IS NOT NULL))
);

CREATE TABLE run (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL,
  project_id uuid NOT NULL,
  name text NOT NULL,
  status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'canceled')),
  started_at timestamptz NOT NULL,
  finished_at timestamptz,
  duration_ms double precision,
  trace_id bytea,
  parent_run_id uuid,
  session_id text,
  user_id text,
  agent_name text,
  tags jsonb NOT NULL DEFAULT '{}',
  model_names text[] NOT NULL DEFAULT '{}',
  step_count integer NOT NULL DEFAULT 0,
  tool_count integer NOT NULL DEFAULT 0,
  error_count integer NOT NULL DEFAULT 0,
  input_tokens bigint NOT NULL DEFAULT 0,
  output_tokens bigint NOT NULL DEFAULT 0,
  cost_usd double precision,
  -- Whether the root span (or :finish) has arrived; until then the run is 'running'.
  has_root boolean NOT NULL DEFAULT false,
  -- The seq the next accepted step of this run gets: gap-free, assigned under this row's lock.
  next_seq bigint NOT NULL DEFAULT 1,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
-- GET /v1/runs: newest first with (started_at, id) keyset pagination.
CREATE INDEX run_newest ON run (tenant_id, started_at DESC, id DESC);
-- GET /v1/runs?trace_id=
CREATE INDEX run_trace ON run (tenant_id, trace_id);

CREATE TABLE step (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL,
  run_id uuid NOT NULL,
  seq bigint NOT NULL,
  parent_step_id uuid,
  trace_id bytea,
  span_id bytea,
  parent_span_id bytea,
  ts timestamptz NOT NULL,
  end_ts timestamptz,
  duration_ms double precision,
  type text NOT NULL,
  name text NOT NULL,
  status text NOT NULL CHECK (status IN ('ok', 'error', 'unset')),
  error_type text,
  error_message text,
  error_stack text,
  model text,
  request_model text,
  provider text,
  tool_name text,
  agent_name text,
  input_tokens bigint,
  output_tokens bigint,
  cost_usd double precision,
  decision_token_id text,
  payload jsonb NOT NULL,
  payload_hash text NOT NULL,
  redaction_meta jsonb NOT NULL,
  schema_version integer NOT NULL,
  resource jsonb,
  scope jsonb,
  PRIMARY KEY (tenant_id, id),
  -- GET /v1/runs/{id}/steps and /timeline read a run's steps in seq order.
  UNIQUE (tenant_id, run_id, seq)
);
-- Idempotent ingest: one step per (tenant, trace id, span id); also resolves parent spans.
CREATE UNIQUE INDEX step_span ON step (tenant_id, trace_id, span_id);

CREATE TABLE invocation (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL,
  project_id uuid NOT NULL,
  run_id uuid NOT NULL,
  step_id uuid NOT NULL,
  trace_id bytea,
  span_id bytea,
  parent_span_id bytea,
  kind text NOT NULL,
  target text NOT NULL,
  method text,
  invoker text,
  task_type text,
  provider text,
  model text,
  tool_name text,
  artifact_id text,
  success boolean NOT NULL,
  error_type text,
  error_message text,
  started_at timestamptz NOT NULL,
  latency_ms double precision,
  input_tokens bigint,
  output_tokens bigint,
  cached_input_tokens bigint,
  cache_write_tokens bigint,
  reasoning_tokens bigint,
  cost_usd double precision,
  cost_source text CHECK (cost_source IN ('reported', 'estimated')),
  PRIMARY KEY (tenant_id, id)
);
-- GET /v1/invocations: newest first.
CREATE INDEX invocation_newest ON invocation (tenant_id, started_at DESC, id DESC);
-- GET /v1/invocations?target= (and tool/model lookups), newest first.
CREATE INDEX invocation_target ON invocation (tenant_id, target, started_at DESC, id DESC);
-- Run filters and the per-run usage roll-up at ingest.
CREATE INDEX invocation_run ON invocation (tenant_id, run_id);
