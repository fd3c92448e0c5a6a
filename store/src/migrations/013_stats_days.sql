-- Invocation stats per closed UTC day (issue 5). GET /v1/invocations/stats without a filter other than
-- since/until read every call of the range: at 1M spans, 575k tool calls for one tenant, 170-330 ms, all
-- of it per-row work in the executor. A day that is over rarely changes, so its partial stats are kept
-- here, per group_by, the first time a query needs them: counts, sums, failure types and every latency
-- (so percentiles stay exact: a histogram could not merge into percentile_cont's answer).
--
-- Freshness: stats_day_version counts the changes to a tenant's calls of each closed day, bumped in the
-- changing transaction: by the ingest writer for a late call (one statement per batch that has any), and
-- by the triggers below for a cost recompute or retention. A kept day is used only while its version is
-- current. Only days before yesterday are kept, and a change bumps every day before today: a change that
-- was not bumped (its day was today when it was made) would have to commit more than a day later to be
-- missed.
CREATE TABLE stats_day_version (
  tenant_id uuid NOT NULL,
  day date NOT NULL,
  version bigint NOT NULL,
  PRIMARY KEY (tenant_id, day)
);
SELECT agentrace_secure_tenant_table('stats_day_version');

CREATE TABLE stats_day (
  tenant_id uuid NOT NULL,
  group_by text NOT NULL,
  day date NOT NULL,
  -- stats_day_version.version when computed (0: no change recorded yet).
  version bigint NOT NULL,
  -- One document for the day: { key: { total, successful, latency_n, latency_sum, failure_types,
  -- input_tokens, output_tokens, cost_usd } }; an empty object for a day without such calls.
  stats jsonb NOT NULL,
  -- The day's latencies (big-endian float8, grouped by key in the order `keys` lists them, latency_n
  -- each), read whole: stored uncompressed, as pglz costs more to undo than the bytes cost to read.
  keys text[] NOT NULL,
  latencies bytea NOT NULL,
  PRIMARY KEY (tenant_id, group_by, day)
);
ALTER TABLE stats_day ALTER COLUMN latencies SET STORAGE EXTERNAL;
SELECT agentrace_secure_tenant_table('stats_day');

-- Bumps the version of each closed day in (tenants[i], days[i]), in key order (concurrent bumps cannot
-- deadlock). SECURITY DEFINER: whoever changes calls records it, and nobody may set versions otherwise.
CREATE FUNCTION stats_bump_days(tenants uuid[], days date[]) RETURNS void LANGUAGE sql SECURITY DEFINER
SET search_path FROM CURRENT AS $$
  INSERT INTO stats_day_version AS v (tenant_id, day, version)
  SELECT DISTINCT c.tenant_id, c.day, 1 FROM unnest(tenants, days) AS c(tenant_id, day)
  WHERE c.day < (statement_timestamp() AT TIME ZONE 'UTC')::date
  ORDER BY 1, 2
  ON CONFLICT (tenant_id, day) DO UPDATE SET version = v.version + 1
$$;
REVOKE EXECUTE ON FUNCTION stats_bump_days(uuid[], date[]) FROM PUBLIC;

CREATE FUNCTION stats_changed_calls() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path FROM CURRENT AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    -- Both days of a call whose start moved.
    PERFORM stats_bump_days(array_agg(c.tenant_id), array_agg((c.started_at AT TIME ZONE 'UTC')::date))
    FROM (SELECT tenant_id, started_at FROM old_calls UNION ALL SELECT tenant_id, started_at FROM new_calls) c;
  ELSE
    PERFORM stats_bump_days(array_agg(c.tenant_id), array_agg((c.started_at AT TIME ZONE 'UTC')::date))
    FROM old_calls c;
  END IF;
  RETURN NULL;
END
$$;
REVOKE EXECUTE ON FUNCTION stats_changed_calls() FROM PUBLIC;

-- Cost recompute and retention change many calls at once: one bump per statement. (Inserts are bumped by
-- the ingest writer, which knows the days of its calls: a trigger per row made a backfill of old calls
-- several times slower, and a statement trigger would copy every inserted row for the common case of
-- none being late.)
CREATE TRIGGER stats_updated_calls AFTER UPDATE ON invocation
  REFERENCING OLD TABLE AS old_calls NEW TABLE AS new_calls
  FOR EACH STATEMENT EXECUTE FUNCTION stats_changed_calls();
CREATE TRIGGER stats_deleted_calls AFTER DELETE ON invocation REFERENCING OLD TABLE AS old_calls
  FOR EACH STATEMENT EXECUTE FUNCTION stats_changed_calls();
