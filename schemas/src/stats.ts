import { z } from 'zod';
import { InvocationFilters } from './query.ts';

/** What `GET /v1/invocations/stats` groups by, and the invocation column each key reads. */
export const StatsGroupBy = z.enum(['artifact', 'tool', 'model', 'provider', 'invoker', 'task_type']);
export type StatsGroupBy = z.infer<typeof StatsGroupBy>;

/** `GET /v1/invocations/stats` query string: a group key and every invocation filter. */
export const InvocationStatsQuery = InvocationFilters.extend({ group_by: StatsGroupBy }).strict();
export type InvocationStatsQuery = z.infer<typeof InvocationStatsQuery>;

/** `GET /v1/artifacts/{artifact_id}/invocations` query string: the invocation filters but the artifact. */
export const ArtifactStatsQuery = InvocationFilters.omit({ artifact_id: true }).strict();
export type ArtifactStatsQuery = z.infer<typeof ArtifactStatsQuery>;

/** One group of invocations (API.md "GET /v1/invocations/stats"); latencies in ms, null when none known. */
export const InvocationStatsRow = z.object({
  key: z.string(),
  total_invocations: z.number().int(),
  successful: z.number().int(),
  failed: z.number().int(),
  success_rate: z.number().min(0).max(1),
  avg_duration_ms: z.number().nullable(),
  p50_ms: z.number().nullable(),
  p95_ms: z.number().nullable(),
  p99_ms: z.number().nullable(),
  failure_types: z.record(z.string(), z.number().int()),
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  cost_usd: z.number().nullable(),
});
export type InvocationStatsRow = z.infer<typeof InvocationStatsRow>;
