import { z } from 'zod';

const JsonValue: z.ZodType<unknown> = z.lazy(() =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(JsonValue),
    z.record(z.string(), JsonValue),
  ]),
);

/**
 * The structured events an agent logs on its current step (`logEvent` in `@agentrace/instrumentation`),
 * each emitted as the span event `agentrace.event.<type>` with its fields as `agentrace.event.<field>`.
 * Strict: a misspelt field is an invalid event, not a silently lost one.
 */
export const AgentEvent = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('message'),
    role: z.enum(['system', 'user', 'assistant', 'tool']),
    content: z.string(),
  }),
  z.strictObject({
    type: z.literal('decision'),
    choice: z.string().min(1),
    reason: z.string().optional(),
    alternatives: z.array(z.string()).optional(),
  }),
  z.strictObject({ type: z.literal('observation'), source: z.string().min(1), content: z.string() }),
  z.strictObject({
    type: z.literal('metric'),
    name: z.string().min(1),
    value: z.number(),
    unit: z.string().optional(),
  }),
  z.strictObject({
    type: z.literal('feedback'),
    score: z.number().min(0).max(1),
    comment: z.string().optional(),
    source: z.string().optional(),
  }),
  /** Anything else, under a name of the agent's choosing. */
  z.strictObject({
    type: z.literal('custom'),
    name: z.string().min(1),
    data: z.record(z.string(), JsonValue),
  }),
]);
export type AgentEvent = z.infer<typeof AgentEvent>;
