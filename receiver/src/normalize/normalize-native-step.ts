import type { NativeStep } from '@agentrace/schemas';
import type { StepRecord } from '@agentrace/store';
import { RedactionLog, redactString, redactValue } from '../redact/redactor.ts';
import { canonicalJson, sha256Tagged } from './canonical-json.ts';
import { type CallFacts, invocationOf, priceCall } from './invocation.ts';
import type { NormalizeContext } from './normalize-span.ts';
import { isoToNanos, nanosToIso } from './time.ts';

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

  const log = new RedactionLog();
  const errorType = step.error?.type ?? (failed ? 'error' : null);
  const errorMessage = step.error ? redactString(step.error.message, '$.error.message', log, ctx.redaction) : null;
  const errorStack = step.error?.stack ? redactString(step.error.stack, '$.error.stack', log, ctx.redaction) : null;
  const payloadJson = canonicalJson(redactValue(step.payload, '$.payload', log, ctx.redaction));

  // On an agent step the agent is the step itself; on any other it is the agent that made the call.
  const isAgent = step.type === 'agent';
  const facts: CallFacts = {
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
  };
  const { costUsd, costSource } = priceCall(ctx.pricing, step.type, facts);

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
    name: step.name,
    status,
    errorType,
    errorMessage,
    errorStack,
    model: step.model_name ?? null,
    requestModel: step.request_model ?? null,
    provider: step.provider ?? null,
    toolName: step.tool_name ?? null,
    agentName: step.agent_name ?? null,
    inputTokens: step.input_tokens ?? null,
    outputTokens: step.output_tokens ?? null,
    costUsd,
    decisionTokenId: step.decision_token_id ?? null,
    payloadJson,
    payloadHash: sha256Tagged(payloadJson),
    redactionMeta: log.toMeta(),
    schemaVersion: step.schema_version,
    resourceJson: null,
    scopeJson: null,
    invocation: invocationOf({
      type: step.type,
      name: step.name,
      facts,
      failed,
      errorType,
      errorMessage,
      durationMs,
      costUsd,
      costSource,
    }),
    // A native step never ends its run: :finish does.
    run: {
      isRoot: false,
      name: null,
      explicitStatus: null,
      sessionId: null,
      userId: null,
      agentName: step.agent_name ?? null,
      parentRunId: null,
      tags: {},
    },
  };
}
