-- The usage roll-up at ingest reads a run's model calls and probes each for a model-call child. With only
-- 003's (tenant_id, trace_id, parent_span_id) index, the planner scanned every model call of the tenant
-- for each touched run (ingest slowed down as data grew: 264-361 µs/span of roll-up at 50k spans). One
-- index keyed by run serves both the outer scan and the child probe.
DROP INDEX IF EXISTS invocation_model_parent;
CREATE INDEX invocation_model_calls ON invocation (tenant_id, run_id, parent_span_id)
  WHERE kind IN ('model', 'embedding');
