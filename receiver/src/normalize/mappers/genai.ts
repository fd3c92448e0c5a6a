import { GEN_AI, type StepType } from '@agentrace/schemas';
import { defined, firstNum, firstStr, num, str, structured } from '../attribute-readers.ts';
import type { Mapper, SpanView } from '../mapped.ts';
import { normalizeProvider } from '../provider-names.ts';

/** `gen_ai.operation.name` → step type (GenAI semconv spans.yaml, plus common non-standard names). */
const OPERATION_TYPES: Record<string, StepType> = {
  chat: 'llm',
  text_completion: 'llm',
  generate_content: 'llm',
  embeddings: 'embedding',
  execute_tool: 'tool',
  invoke_agent: 'agent',
  create_agent: 'agent',
  retrieval: 'retrieval',
  invoke_workflow: 'chain',
  plan: 'chain',
  rerank: 'rerank',
};

/** A cost some producers report beside the usage; the GenAI conventions define no cost attribute. */
const USAGE_COST = 'gen_ai.usage.cost';

/**
 * The OTel GenAI semantic conventions, both generations: current (`gen_ai.provider.name`,
 * `input_tokens`, `gen_ai.input.messages`) and pre-1.37 (`gen_ai.system`, `prompt_tokens`, message events).
 */
export const genAiMapper: Mapper = (span) => {
  const a = span.attributes;
  const operation = str(a, GEN_AI.operationName);
  const type = operation ? OPERATION_TYPES[operation] : undefined;
  const provider = firstStr(a, GEN_AI.providerName, GEN_AI.system);
  return defined({
    type,
    runName: str(a, GEN_AI.workflowName),
    requestModel: str(a, GEN_AI.requestModel),
    model: str(a, GEN_AI.responseModel),
    provider: provider && normalizeProvider(provider),
    toolName: str(a, GEN_AI.toolName),
    toolCallId: str(a, GEN_AI.toolCallId),
    agentName: str(a, GEN_AI.agentName) ?? agentNameFromSpanName(span.name),
    dataSourceId: str(a, GEN_AI.dataSourceId),
    inputTokens: firstNum(a, GEN_AI.inputTokens, GEN_AI.promptTokens),
    outputTokens: firstNum(a, GEN_AI.outputTokens, GEN_AI.completionTokens),
    cachedInputTokens: firstNum(a, GEN_AI.cacheReadTokens, GEN_AI.cacheReadTokensLegacy),
    cacheWriteTokens: firstNum(a, GEN_AI.cacheCreationTokens, GEN_AI.cacheCreationTokensLegacy),
    reasoningTokens: firstNum(a, GEN_AI.reasoningTokens),
    reportedCostUsd: num(a, USAGE_COST),
    input: inputOf(span),
    output: outputOf(span),
  });
};

function agentNameFromSpanName(name: string): string | undefined {
  const match = /^(?:invoke_agent|create_agent) (.+)$/.exec(name);
  return match?.[1];
}

function inputOf(span: SpanView): unknown {
  const a = span.attributes;
  const messages = structured(a, GEN_AI.inputMessages);
  if (messages !== undefined) {
    const system = structured(a, GEN_AI.systemInstructions);
    return system === undefined ? { messages } : { system, messages };
  }
  const args = structured(a, GEN_AI.toolCallArguments);
  if (args !== undefined) return { arguments: args };
  const events = span.events.filter((e) => MESSAGE_EVENTS.has(e.name));
  if (events.length > 0) return { messages: events.map((e) => ({ event: e.name, ...e.attributes })) };
  const legacy = span.events.find((e) => e.name === 'gen_ai.content.prompt');
  if (legacy) return { messages: structured(legacy.attributes, GEN_AI.prompt) };
  return undefined;
}

function outputOf(span: SpanView): unknown {
  const a = span.attributes;
  const messages = structured(a, GEN_AI.outputMessages);
  if (messages !== undefined) return { messages };
  const result = structured(a, GEN_AI.toolCallResult);
  if (result !== undefined) return { result };
  const choices = span.events.filter((e) => e.name === 'gen_ai.choice');
  if (choices.length > 0) return { choices: choices.map((e) => e.attributes) };
  const legacy = span.events.find((e) => e.name === 'gen_ai.content.completion');
  if (legacy) return { messages: structured(legacy.attributes, GEN_AI.completion) };
  return undefined;
}

const MESSAGE_EVENTS = new Set([
  'gen_ai.system.message',
  'gen_ai.user.message',
  'gen_ai.assistant.message',
  'gen_ai.tool.message',
]);
