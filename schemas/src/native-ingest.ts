import { z } from 'zod';
import { StepStatus, StepType } from './domain.ts';
import { fieldPath, issueDetails } from './http-error.ts';
import { TraceIdHex } from './query.ts';
import { StepPayload } from './wire.ts';

// Bodies of the native REST ingest endpoints (API.md "Native REST"). Optional fields may be omitted or
// null, since typed clients often send null for "not set"; unknown fields are an error, so typos are not
// silently dropped.

/** An RFC 3339 timestamp with an offset (`Z` or `±hh:mm`), any fraction digits; kept as given. */
const Rfc3339 = z.iso.datetime({ offset: true });
const Uuid = z.uuid().transform((s) => s.toLowerCase());
const Label = z.string().min(1).max(1024);
const TokenCount = z.number().int().nonnegative();

/** `POST /v1/runs` body. */
export const CreateRunBody = z
  .object({
    name: Label,
    tags: z.record(z.string().min(1).max(256), z.string().max(4096)).nullish(),
    parent_run_id: Uuid.nullish(),
    trace_id: TraceIdHex.refine((hex) => !/^0+$/.test(hex), 'must not be all zeros').nullish(),
    started_at: Rfc3339.nullish(),
  })
  .strict();
export type CreateRunBody = z.infer<typeof CreateRunBody>;

/** `POST /v1/runs/{run_id}:finish` body. */
export const FinishRunBody = z
  .object({
    status: z.enum(['succeeded', 'failed', 'canceled']),
    finished_at: Rfc3339.nullish(),
  })
  .strict();
export type FinishRunBody = z.infer<typeof FinishRunBody>;

/** The only schema version of native steps so far; a later one is a new, documented shape. */
export const NATIVE_STEP_SCHEMA_VERSION = 1;

/** One step of `POST /v1/runs/{run_id}/steps`. */
export const NativeStep = z
  .object({
    /** Client-chosen id: the step's id, and what makes a retried batch idempotent. */
    step_id: Uuid.nullish(),
    type: StepType,
    name: Label,
    schema_version: z.literal(NATIVE_STEP_SCHEMA_VERSION),
    ts: Rfc3339,
    end_ts: Rfc3339.nullish(),
    duration_ms: z.number().nonnegative().nullish(),
    status: StepStatus.nullish(),
    error: z
      .object({ type: Label, message: z.string(), stack: z.string().nullish() })
      .strict()
      .nullish(),
    parent_step_id: Uuid.nullish(),
    payload: StepPayload,
    tool_name: Label.nullish(),
    model_name: Label.nullish(),
    request_model: Label.nullish(),
    provider: Label.nullish(),
    agent_name: Label.nullish(),
    task_type: Label.nullish(),
    artifact_id: Label.nullish(),
    method: Label.nullish(),
    input_tokens: TokenCount.nullish(),
    output_tokens: TokenCount.nullish(),
    cached_input_tokens: TokenCount.nullish(),
    cost_usd: z.number().nonnegative().nullish(),
    decision_token_id: Label.nullish(),
  })
  .strict()
  .superRefine((step, ctx) => {
    if (step.end_ts && Date.parse(step.end_ts) < Date.parse(step.ts)) {
      ctx.addIssue({ code: 'custom', path: ['end_ts'], message: 'must not be before ts' });
    }
    if (step.error && step.status && step.status !== 'error') {
      ctx.addIssue({ code: 'custom', path: ['status'], message: 'must be "error" (or omitted) when error is given' });
    }
  });
export type NativeStep = z.infer<typeof NativeStep>;

/** Steps per request, at most. */
export const MAX_STEPS_PER_BATCH = 1000;

const StepBatchEnvelope = z.object({ steps: z.array(z.unknown()).min(1).max(MAX_STEPS_PER_BATCH) }).strict();

/** The `POST /v1/runs/{run_id}/steps` body as documented; `parseStepBatch` checks it step by step. */
export const StepBatchBody = StepBatchEnvelope.extend({ steps: z.array(NativeStep).min(1).max(MAX_STEPS_PER_BATCH) });

export type StepBatchParse = { ok: true; steps: NativeStep[] } | { ok: false; details: Record<string, string> };

/**
 * Validates a `POST /v1/runs/{run_id}/steps` body step by step: either every step is valid, or the
 * details name every problem as `steps[i].field` (and a `step_id` repeated inside the batch).
 */
export function parseStepBatch(body: unknown): StepBatchParse {
  const envelope = StepBatchEnvelope.safeParse(body);
  if (!envelope.success) return { ok: false, details: issueDetails(envelope.error) };
  const details: Record<string, string> = {};
  const steps: NativeStep[] = [];
  const firstIndexOfId = new Map<string, number>();
  envelope.data.steps.forEach((raw, i) => {
    const prefix = fieldPath(['steps', i]);
    const parsed = NativeStep.safeParse(raw);
    if (!parsed.success) {
      Object.assign(details, issueDetails(parsed.error, prefix));
      return;
    }
    const id = parsed.data.step_id;
    const first = id ? firstIndexOfId.get(id) : undefined;
    if (first !== undefined) details[`${prefix}.step_id`] = `repeats steps[${first}].step_id`;
    else if (id) firstIndexOfId.set(id, i);
    steps.push(parsed.data);
  });
  return Object.keys(details).length > 0 ? { ok: false, details } : { ok: true, steps };
}

/** The answer of `POST /v1/runs/{run_id}/steps`: where each step of the request landed. */
export const AssignedSteps = z.object({
  run_id: z.uuid(),
  assigned: z.array(z.object({ index: z.number().int().nonnegative(), step_id: z.uuid(), seq: z.number().int().positive() })),
});
export type AssignedSteps = z.infer<typeof AssignedSteps>;
