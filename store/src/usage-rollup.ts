import type { Queryable } from './connection.ts';

/** A run, by tenant and id. */
export interface RunRef {
  tenantId: string;
  runId: string;
}

/**
 * Whether the model call `alias` counts towards usage and cost: only leaf calls do. A model call whose own
 * child is a model call (one call instrumented twice, a router span) repeats its child's usage. Run totals
 * and the cost report count with this one rule, so that they add up.
 */
export const IS_COUNTED_MODEL_CALL = (alias: string) =>
  `${alias}.kind IN ('model', 'embedding') AND NOT EXISTS (
     SELECT 1 FROM invocation c
     WHERE c.tenant_id = ${alias}.tenant_id AND c.run_id = ${alias}.run_id AND c.trace_id = ${alias}.trace_id
       AND c.parent_span_id = ${alias}.span_id AND c.kind IN ('model', 'embedding'))`;

/**
 * Recomputes the token and cost totals (and model names) of `runs` from their model invocations, leaf
 * calls only. Recomputing from the rows, rather than adding deltas, makes parents arriving after their
 * children (or the reverse) come out the same; ingest calls it for the runs a batch touched, and
 * `agentrace cost recompute` for the runs it re-priced.
 * @example await rollUpRunUsage(client, [{ tenantId, runId }])
 */
export async function rollUpRunUsage(db: Queryable, runs: readonly RunRef[]): Promise<void> {
  // Driven by the run list, each run's totals a LATERAL aggregate over its own model calls: the planner
  // then updates the runs through their primary key. Joined as one GROUP BY result instead, its row
  // estimate made it hash-join against a scan of every run of the database, on every ingest batch.
  // OFFSET 0 keeps `leaf` a column of the subquery, probed once per call, not once per aggregate using it.
  await db.query({
    name: 'usage-rollup',
    text: `UPDATE run r SET input_tokens = t.input_tokens, output_tokens = t.output_tokens, cost_usd = t.cost_usd,
                      model_names = t.model_names, updated_at = clock_timestamp()
     FROM unnest($1::uuid[], $2::uuid[]) AS k(tenant_id, run_id)
     CROSS JOIN LATERAL (
       SELECT coalesce(sum(c.input_tokens) FILTER (WHERE c.leaf), 0) AS input_tokens,
              coalesce(sum(c.output_tokens) FILTER (WHERE c.leaf), 0) AS output_tokens,
              sum(c.cost_usd) FILTER (WHERE c.leaf) AS cost_usd,
              coalesce(array_agg(DISTINCT c.model ORDER BY c.model) FILTER (WHERE c.model IS NOT NULL), '{}') AS model_names
       FROM (
         SELECT i.model, i.input_tokens, i.output_tokens, i.cost_usd, ${IS_COUNTED_MODEL_CALL('i')} AS leaf
         FROM invocation i
         WHERE i.tenant_id = k.tenant_id AND i.run_id = k.run_id AND i.kind IN ('model', 'embedding')
         OFFSET 0
       ) c
       -- A run without model calls keeps its totals, as it did before this roll-up.
       HAVING count(*) > 0
     ) t
     WHERE r.tenant_id = k.tenant_id AND r.id = k.run_id`,
    values: [runs.map((r) => r.tenantId), runs.map((r) => r.runId)],
  });
}
