-- Cost (issue 5). The leaf rule of run totals and of the cost report looks for a model call's model-call
-- children by (tenant, trace, parent span): without this index that probe scans the run's invocations.
CREATE INDEX invocation_model_parent ON invocation (tenant_id, trace_id, parent_span_id)
  WHERE kind IN ('model', 'embedding');
