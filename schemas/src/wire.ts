import { z } from 'zod';
import { CostSource } from './cost.ts';
import { GovernanceViolation, InvocationKind, RunStatus, StepStatus, StepType } from './domain.ts';

const Rfc3339 = z.string();
const Hex = z.string().regex(/^[0-9a-f]+$/);

/** A run (episode) as the query API returns it (API.md "Run"). */
export const Run = z.object({
  run_id: z.uuid(),
  project_id: z.uuid(),
  name: z.string(),
  status: RunStatus,
  started_at: Rfc3339,
  finished_at: Rfc3339.nullable(),
  duration_ms: z.number().nullable(),
  trace_id: Hex.nullable(),
  parent_run_id: z.uuid().nullable(),
  session_id: z.string().nullable(),
  user_id: z.string().nullable(),
  agent_name: z.string().nullable(),
  tags: z.record(z.string(), z.string()),
  model_names: z.array(z.string()),
  step_count: z.number().int(),
  tool_count: z.number().int(),
  error_count: z.number().int(),
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  cost_usd: z.number().nullable(),
  /** Tool steps of the run that broke the governance binding (see Step `governance_violation`). */
  governance_violations: z.number().int(),
});
export type Run = z.infer<typeof Run>;

export const StepError = z.object({ type: z.string(), message: z.string(), stack: z.string().nullable() });
export type StepError = z.infer<typeof StepError>;

export const RedactionMeta = z.object({
  paths: z.array(z.string()),
  rules: z.array(z.object({ rule_id: z.string(), reason: z.string() })),
});
export type RedactionMeta = z.infer<typeof RedactionMeta>;

export const StepPayload = z
  .object({
    input: z.unknown().optional(),
    output: z.unknown().optional(),
    attributes: z.record(z.string(), z.unknown()).optional(),
    events: z.array(z.unknown()).optional(),
  })
  .catchall(z.unknown());
export type StepPayload = z.infer<typeof StepPayload>;

/** A step as the query API returns it (API.md "Step"). */
export const Step = z.object({
  step_id: z.uuid(),
  run_id: z.uuid(),
  seq: z.number().int().positive(),
  parent_step_id: z.uuid().nullable(),
  ts: Rfc3339,
  end_ts: Rfc3339.nullable(),
  duration_ms: z.number().nullable(),
  type: StepType,
  name: z.string(),
  status: StepStatus,
  schema_version: z.number().int(),
  error: StepError.nullable(),
  model: z.string().nullable(),
  request_model: z.string().nullable(),
  provider: z.string().nullable(),
  tool_name: z.string().nullable(),
  agent_name: z.string().nullable(),
  input_tokens: z.number().int().nullable(),
  output_tokens: z.number().int().nullable(),
  cost_usd: z.number().nullable(),
  payload: StepPayload,
  payload_hash: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  redaction_meta: RedactionMeta,
  trace_id: Hex.nullable(),
  span_id: Hex.nullable(),
  decision_token_id: z.string().nullable(),
  /** Why this tool step broke the governance binding; null when it did not. */
  governance_violation: GovernanceViolation.nullable(),
});
export type Step = z.infer<typeof Step>;

export const TimelineStep = Step.extend({
  depth: z.number().int().nonnegative(),
  offset_ms: z.number(),
  children: z.array(z.uuid()),
});
export type TimelineStep = z.infer<typeof TimelineStep>;

export const Timeline = z.object({ run: Run, steps: z.array(TimelineStep) });
export type Timeline = z.infer<typeof Timeline>;

/** An invocation as the query API returns it (API.md "Invocation"). */
export const Invocation = z.object({
  invocation_id: z.uuid(),
  run_id: z.uuid(),
  step_id: z.uuid(),
  trace_id: Hex.nullable(),
  kind: InvocationKind,
  target: z.string(),
  method: z.string().nullable(),
  invoker: z.string().nullable(),
  task_type: z.string().nullable(),
  provider: z.string().nullable(),
  success: z.boolean(),
  error_type: z.string().nullable(),
  error_message: z.string().nullable(),
  started_at: Rfc3339,
  latency_ms: z.number().nullable(),
  input_tokens: z.number().int().nullable(),
  output_tokens: z.number().int().nullable(),
  estimated_cost_usd: z.number().nullable(),
  /** Where `estimated_cost_usd` comes from: the provider's report (which wins) or our price table. */
  cost_source: CostSource.nullable(),
});
export type Invocation = z.infer<typeof Invocation>;

/** Every list endpoint answers this shape. */
export const listOf = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), next_cursor: z.string().nullable() });
