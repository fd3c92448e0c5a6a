import { z } from 'zod';
import { InvocationFilters } from './query.ts';

/** Where a cost comes from: the provider's own report on the span, or our price table. */
export const CostSource = z.enum(['reported', 'estimated']);
export type CostSource = z.infer<typeof CostSource>;

/** What `GET /v1/cost` and `agentrace cost` group by: the calling agent, model, provider, project or UTC day. */
export const CostGroupBy = z.enum(['agent', 'model', 'provider', 'project', 'day']);
export type CostGroupBy = z.infer<typeof CostGroupBy>;

/** `GET /v1/cost` query string. */
export const CostQuery = InvocationFilters.pick({ since: true, until: true })
  .extend({ group_by: CostGroupBy })
  .strict();
export type CostQuery = z.infer<typeof CostQuery>;

/**
 * One group of the cost report: the model calls that count towards run totals (leaf calls), their cost
 * (null when none is priced), tokens, and how many have no price. `key` is null for calls without one
 * (no agent, say), so that the groups add up to the whole.
 */
export const CostRow = z.object({
  key: z.string().nullable(),
  cost_usd: z.number().nullable(),
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  invocations: z.number().int(),
  unpriced_invocations: z.number().int(),
});
export type CostRow = z.infer<typeof CostRow>;
