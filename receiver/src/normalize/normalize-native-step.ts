import type { NativeStep } from '@agentrace/schemas';
import { noRunHints, type StepRecord } from '@agentrace/store';
import { redactStep } from '../redact/redact-step.ts';
import { type CallFacts, callColumns, invocationOf, priceCall } from './invocation.ts';
import type { NormalizeContext } from './normalize-span.ts';
import { isoToNanos, nanosToIso } from './time.ts';
import { toolCallOf } from './tool-call.ts';

/** The run a native step is posted to, as stored. */
export interface NativeRunRef {
  runId: string;
  traceId: Buffer | null;
}

const given = <T>(value: T | null | undefined): T | undefined => value ?? undefined;

/**
 * Maps one validated native REST step onto a step record through the same redaction, payload hash,
 * pricing and invocation rules as a span. It has no span id: a retry is recognized by its `step_id`.
 * Pure.
 */
export function normalizeNativeStep(ctx: NormalizeContext, run: NativeRunRef, step: NativeStep): StepRecord {
  const startNs = isoToNanos(step.ts);
  const endNs = step.end_ts
    ? isoToNanos(step.end_ts)
    : typeof step.duration_ms === 'number'
      ? startNs + BigInt(Math.round(step.duration_ms * 1e6))
      : null;
  const durationMs = step.duration_ms ?? (endNs === null ? null : Number(endNs - startNs) / 1e6);
  const status = step.status ?? (step.error ? 'error' : 'unset');
  const failed = status === 'error';

  // On an agent step the agent is the step itself; on any other it is the agent that made the call.
  const isAgent = step.type === 'agent';
  const rawFacts: CallFacts & { decisionTokenId?: string } = {
    model: given(step.model_name),
    requestModel: given(step.request_model),
    provider: given(step.provider),
    toolName: given(step.tool_name),
    agentName: isAgent ? given(step.agent_name) : undefined,
    contextAgentName: isAgent ? undefined : given(step.agent_name),
    taskType: given(step.task_type),
    artifactId: given(step.artifact_id),
    method: given(step.method),
    inputTokens: given(step.input_tokens),
    outputTokens: given(step.output_tokens),
    cachedInputTokens: given(step.cached_input_tokens),
    reportedCostUsd: given(step.cost_usd),
    decisionTokenId: given(step.decision_token_id),
  };
  const redacted = redactStep(ctx.redaction, {
    name: step.name,
    error: {
      type: step.error?.type ?? (failed ? 'error' : null),
      message: step.error?.message ?? null,
      stack: step.error?.stack || null,
    },
    payload: step.payload,
    facts: rawFacts,
  });
  const { facts, error } = redacted;
  const { costUsd, costSource } = priceCall(ctx.pricing, step.type, facts, nanosToIso(startNs));

  return {
    tenantId: ctx.tenantId,
    projectId: ctx.projectId,
    runId: run.runId,
    stepId: given(step.step_id),
    traceId: run.traceId,
    spanId: null,
    parentSpanId: null,
    parentStepId: step.parent_step_id ?? null,
    ts: nanosToIso(startNs),
    endTs: endNs === null ? null : nanosToIso(endNs),
    durationMs,
    type: step.type,
    name: redacted.name,
    status,
    errorType: error.type,
    errorMessage: error.message,
    errorStack: error.stack,
    ...callColumns(facts),
    costUsd,
    payloadJson: redacted.payloadJson,
    payloadHash: redacted.payloadHash,
    redactionMeta: redacted.redactionMeta,
    schemaVersion: step.schema_version,
    resourceJson: null,
    scopeJson: null,
    invocation: invocationOf({
      type: step.type,
      name: redacted.name,
      facts,
      failed,
      errorType: error.type,
      errorMessage: error.message,
      durationMs,
      costUsd,
      costSource,
    }),
    toolCall: toolCallOf(step.type, step.payload.input),
    // A native step never ends its run: :finish does.
    run: { ...noRunHints(), agentName: facts.agentName ?? facts.contextAgentName ?? null },
  };
}
