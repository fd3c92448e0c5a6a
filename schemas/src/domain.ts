import { z } from 'zod';

/** The kinds of step an agent run is made of (DESIGN §3). */
export const StepType = z.enum([
  'agent',
  'llm',
  'tool',
  'chain',
  'retrieval',
  'embedding',
  'rerank',
  'guardrail',
  'evaluator',
  'prompt',
  'thought',
  'policy',
  'approval',
  'artifact',
  'error',
  'other',
]);
export type StepType = z.infer<typeof StepType>;

export const RunStatus = z.enum(['running', 'succeeded', 'failed', 'canceled']);
export type RunStatus = z.infer<typeof RunStatus>;

export const StepStatus = z.enum(['ok', 'error', 'unset']);
export type StepStatus = z.infer<typeof StepStatus>;

export const InvocationKind = z.enum(['model', 'tool', 'agent', 'artifact', 'embedding', 'retrieval']);
export type InvocationKind = z.infer<typeof InvocationKind>;

/** Step types whose token usage is a model call's own (and so may count towards run totals). */
export const MODEL_STEP_TYPES: ReadonlySet<StepType> = new Set(['llm', 'embedding']);

/**
 * How a tool step broke the binding of "approved" to "executed" (DESIGN §6): a tool the active policy gates
 * ran without a token, or its token is unknown, of another run, for another tool or other arguments, or was
 * used by an earlier step.
 */
export const GovernanceViolation = z.enum([
  'missing_token',
  'unknown_token',
  'run_mismatch',
  'tool_mismatch',
  'args_mismatch',
  'token_reused',
]);
export type GovernanceViolation = z.infer<typeof GovernanceViolation>;
