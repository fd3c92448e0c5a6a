import { GEN_AI, type StepType } from '@agentrace/schemas';
import type { Attributes } from '../../otlp/decoded.ts';
import { defined, firstNum, isObject, str, structured } from '../attribute-readers.ts';
import type { Mapper } from '../mapped.ts';
import { normalizeProvider } from '../provider-names.ts';

/** Vercel AI SDK attribute keys (`ai` telemetry, legacy format; v7 `OpenTelemetry` adds a few). */
export const AI_SDK = {
  operationId: 'ai.operationId',
  functionId: 'ai.telemetry.functionId',
  /** v4–v6: `experimental_telemetry.metadata.<key>`. */
  metadataPrefix: 'ai.telemetry.metadata.',
  /** v7: the runtime context keys telemetry is told to include. */
  contextPrefix: 'ai.settings.context.',
  modelId: 'ai.model.id',
  modelProvider: 'ai.model.provider',
  responseModel: 'ai.response.model',
  toolCallName: 'ai.toolCall.name',
  toolCallId: 'ai.toolCall.id',
  toolCallArgs: 'ai.toolCall.args',
  toolCallResult: 'ai.toolCall.result',
  inputTokens: 'ai.usage.inputTokens',
  promptTokens: 'ai.usage.promptTokens',
  embeddingTokens: 'ai.usage.tokens',
  outputTokens: 'ai.usage.outputTokens',
  completionTokens: 'ai.usage.completionTokens',
  cacheReadTokens: 'ai.usage.inputTokenDetails.cacheReadTokens',
  cachedInputTokens: 'ai.usage.cachedInputTokens',
  cacheWriteTokens: 'ai.usage.inputTokenDetails.cacheWriteTokens',
  reasoningTokens: 'ai.usage.reasoningTokens',
  outputReasoningTokens: 'ai.usage.outputTokenDetails.reasoningTokens',
  prompt: 'ai.prompt',
  promptMessages: 'ai.prompt.messages',
  value: 'ai.value',
  values: 'ai.values',
  responseText: 'ai.response.text',
  responseToolCalls: 'ai.response.toolCalls',
  responseObject: 'ai.response.object',
} as const;

/** v7's `step N` spans: `gen_ai.operation.name` = `agent_step`, not a GenAI value. */
const AGENT_STEP = 'agent_step';

/**
 * The Vercel AI SDK. Legacy format: `ai.generateText` / `ai.streamText` / `…Object` / `ai.embed…` are
 * operations (chain) that repeat the usage of their provider calls `*.doGenerate` / `*.doStream` (llm) and
 * `*.doEmbed` (embedding), so they must not be model calls; `ai.toolCall` is a tool. The v7 GenAI format
 * is read by the GenAI mapper, except its `agent_step` spans (chain).
 */
export const vercelAiMapper: Mapper = ({ attributes: a }) => {
  const provider = str(a, AI_SDK.modelProvider);
  return defined({
    type: typeOf(str(a, AI_SDK.operationId), str(a, GEN_AI.operationName)),
    runName: str(a, AI_SDK.functionId),
    model: str(a, AI_SDK.responseModel),
    requestModel: str(a, AI_SDK.modelId),
    provider: provider && normalizeProvider(provider),
    toolName: str(a, AI_SDK.toolCallName),
    toolCallId: str(a, AI_SDK.toolCallId),
    // The function id is the closest the legacy format has to an agent name (v7 makes it gen_ai.agent.name).
    agentName: str(a, AI_SDK.functionId),
    inputTokens: firstNum(a, AI_SDK.inputTokens, AI_SDK.promptTokens, AI_SDK.embeddingTokens),
    outputTokens: firstNum(a, AI_SDK.outputTokens, AI_SDK.completionTokens),
    cachedInputTokens: firstNum(a, AI_SDK.cacheReadTokens, AI_SDK.cachedInputTokens),
    cacheWriteTokens: firstNum(a, AI_SDK.cacheWriteTokens),
    reasoningTokens: firstNum(a, AI_SDK.reasoningTokens, AI_SDK.outputReasoningTokens),
    input: inputOf(a),
    output: outputOf(a),
  });
};

function typeOf(operationId: string | undefined, genAiOperation: string | undefined): StepType | undefined {
  if (genAiOperation === AGENT_STEP) return 'chain';
  if (operationId === undefined || !operationId.startsWith('ai.')) return undefined;
  if (operationId.endsWith('.doGenerate') || operationId.endsWith('.doStream')) return 'llm';
  if (operationId.endsWith('.doEmbed')) return 'embedding';
  if (operationId === 'ai.toolCall') return 'tool';
  if (operationId.startsWith('ai.rerank')) return 'rerank';
  return 'chain';
}

function inputOf(a: Attributes): unknown {
  const messages = structured(a, AI_SDK.promptMessages);
  if (messages !== undefined) return { messages };
  // The operation's prompt is already an object: { system?, prompt?, messages? }.
  const prompt = structured(a, AI_SDK.prompt);
  if (prompt !== undefined) return isObject(prompt) ? prompt : { value: prompt };
  const args = structured(a, AI_SDK.toolCallArgs);
  if (args !== undefined) return { arguments: args };
  const value = structured(a, AI_SDK.value);
  if (value !== undefined) return { value };
  const values = a[AI_SDK.values];
  return values === undefined ? undefined : { values };
}

function outputOf(a: Attributes): unknown {
  const object = structured(a, AI_SDK.responseObject);
  if (object !== undefined) return { object };
  const result = structured(a, AI_SDK.toolCallResult);
  if (result !== undefined) return { result };
  const response = defined({
    text: str(a, AI_SDK.responseText),
    toolCalls: structured(a, AI_SDK.responseToolCalls),
  });
  return Object.keys(response).length > 0 ? response : undefined;
}
