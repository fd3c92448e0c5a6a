-- GET /v1/invocations?success=false (with or without tool, target, model...): what failed, newest first.
-- invocation_newest walked every call to find the rare failures (at 1M spans, 2.4% failed: ~46k index
-- entries and heap rows read for one page of one tool's failures, 25 ms). Partial, so only failed calls
-- pay for it at ingest; a page of one tool's failures now reads ~1,000 entries (1.4 ms).
CREATE INDEX invocation_failures ON invocation (tenant_id, started_at DESC, id DESC) WHERE NOT success;
