import { type InvocationKind, MODEL_STEP_TYPES, type StepType } from '@agentrace/schemas';
import type { InvocationRecord } from '@agentrace/store';
import type { Pricing } from '../pricing/pricing.ts';
import type { Mapped } from './mapped.ts';

const KIND_OF_TYPE: Partial<Record<StepType, InvocationKind>> = {
  llm: 'model',
  embedding: 'embedding',
  tool: 'tool',
  agent: 'agent',
  retrieval: 'retrieval',
};

/**
 * What a step says about the call it makes, whichever way it came: the mappers' reading of a span, or the
 * fields of a native REST step.
 */
export type CallFacts = Partial<
  Pick<
    Mapped,
    | 'model'
    | 'requestModel'
    | 'provider'
    | 'toolName'
    | 'agentName'
    | 'contextAgentName'
    | 'taskType'
    | 'artifactId'
    | 'method'
    | 'invoker'
    | 'dataSourceId'
    | 'inputTokens'
    | 'outputTokens'
    | 'cachedInputTokens'
    | 'cacheWriteTokens'
    | 'reasoningTokens'
    | 'reportedCostUsd'
  >
>;

export interface PricedCall {
  costUsd: number | null;
  costSource: 'reported' | 'estimated' | null;
}

/** The step columns that say what a call was, from its facts (the same for spans and native steps). */
export function callColumns(facts: CallFacts & { decisionTokenId?: string }) {
  return {
    model: facts.model ?? null,
    requestModel: facts.requestModel ?? null,
    provider: facts.provider ?? null,
    toolName: facts.toolName ?? null,
    agentName: facts.agentName ?? facts.contextAgentName ?? null,
    inputTokens: facts.inputTokens ?? null,
    outputTokens: facts.outputTokens ?? null,
    decisionTokenId: facts.decisionTokenId ?? null,
  };
}

/**
 * The cost of a step that started at `at`: a reported cost wins; else model calls are estimated from the
 * prices in effect then (null when the model or its usage is unknown, never zero); other steps cost
 * nothing known.
 */
export function priceCall(pricing: Pricing, type: StepType, facts: CallFacts, at: string): PricedCall {
  if (facts.reportedCostUsd !== undefined) return { costUsd: facts.reportedCostUsd, costSource: 'reported' };
  const estimated = MODEL_STEP_TYPES.has(type)
    ? pricing.estimate(
        facts.model ?? facts.requestModel ?? null,
        {
          inputTokens: facts.inputTokens ?? null,
          outputTokens: facts.outputTokens ?? null,
          cachedInputTokens: facts.cachedInputTokens ?? null,
          cacheWriteTokens: facts.cacheWriteTokens ?? null,
          reasoningTokens: facts.reasoningTokens ?? null,
        },
        at,
      )
    : null;
  return { costUsd: estimated, costSource: estimated !== null ? 'estimated' : null };
}

export interface InvocationInputs {
  type: StepType;
  name: string;
  facts: CallFacts;
  failed: boolean;
  errorType: string | null;
  errorMessage: string | null;
  durationMs: number | null;
  costUsd: number | null;
  costSource: 'reported' | 'estimated' | null;
}

/**
 * The invocation a step makes, if it calls something: a model, a tool, an artifact (a tool call that
 * names `agentrace.artifact.id`), an agent or a retriever. Other steps make none.
 */
export function invocationOf(x: InvocationInputs): InvocationRecord | null {
  const m = x.facts;
  let kind = KIND_OF_TYPE[x.type];
  if (!kind) return null;
  if (kind === 'tool' && m.artifactId) kind = 'artifact';
  const model = m.model ?? m.requestModel ?? null;
  const target =
    kind === 'model' || kind === 'embedding'
      ? (model ?? 'unknown')
      : kind === 'artifact'
        ? m.artifactId!
        : kind === 'tool'
          ? (m.toolName ?? x.name)
          : kind === 'agent'
            ? (m.agentName ?? x.name)
            : (m.dataSourceId ?? x.name);
  return {
    kind,
    target,
    method: m.method ?? null,
    invoker: m.invoker ?? m.contextAgentName ?? null,
    taskType: m.taskType ?? null,
    provider: m.provider ?? null,
    model,
    toolName: kind === 'tool' || kind === 'artifact' ? (m.toolName ?? x.name) : null,
    artifactId: m.artifactId ?? null,
    success: !x.failed,
    errorType: x.failed ? (x.errorType ?? 'error') : null,
    errorMessage: x.failed ? x.errorMessage : null,
    latencyMs: x.durationMs,
    inputTokens: m.inputTokens ?? null,
    outputTokens: m.outputTokens ?? null,
    cachedInputTokens: m.cachedInputTokens ?? null,
    cacheWriteTokens: m.cacheWriteTokens ?? null,
    reasoningTokens: m.reasoningTokens ?? null,
    costUsd: x.costUsd,
    costSource: x.costSource,
  };
}
