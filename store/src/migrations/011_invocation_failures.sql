-- GET /v1/invocations?success=false (with or without tool, target, model...): what failed, newest first.
-- invocation_newest walked every call to find the rare failures (at 1M spans, 2.4% failed: ~46k index
-- entries and heap rows read for one page of one tool's failures, 25 ms). Partial, so only failed calls
-- pay for it at ingest; a page of one tool's failures now reads ~1,000 entries (1.4 ms).
CREATE INDEX invocation_failures ON invocation (tenant_id, started_at DESC, id DESC) WHERE NOT success;
-- An error type is only ever recorded for a failed call (the normalizer's rule, now the database's too), so
-- an error_type filter may add NOT success and read failures through the index above instead of every call
-- (a rare error type otherwise walked the tenant's whole invocation_newest). The rows already stored are
-- checked once, at start-up, in this migration's transaction (one scan of invocation).
ALTER TABLE invocation ADD CONSTRAINT invocation_error_type_only_on_failure
  CHECK (error_type IS NULL OR NOT success) NOT VALID;
ALTER TABLE invocation VALIDATE CONSTRAINT invocation_error_type_only_on_failure;
