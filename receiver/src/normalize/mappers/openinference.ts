import type { StepType } from '@agentrace/schemas';
import type { AttrValue, Attributes } from '../../otlp/decoded.ts';
import {
  defined,
  firstNum,
  firstStr,
  indexedList,
  isObject,
  num,
  str,
  structured,
} from '../attribute-readers.ts';
import type { Mapper } from '../mapped.ts';
import { normalizeProvider } from '../provider-names.ts';

/** OpenInference attribute keys (openinference-semantic-conventions `SemanticConventions.ts`). */
export const OPENINFERENCE = {
  spanKind: 'openinference.span.kind',
  modelName: 'llm.model_name',
  requestModelName: 'llm.request.model_name',
  responseModelName: 'llm.response.model_name',
  embeddingModelName: 'embedding.model_name',
  rerankerModelName: 'reranker.model_name',
  system: 'llm.system',
  provider: 'llm.provider',
  promptTokens: 'llm.token_count.prompt',
  completionTokens: 'llm.token_count.completion',
  cacheReadTokens: 'llm.token_count.prompt_details.cache_read',
  cacheWriteTokens: 'llm.token_count.prompt_details.cache_write',
  reasoningTokens: 'llm.token_count.completion_details.reasoning',
  costTotal: 'llm.cost.total',
  costPrompt: 'llm.cost.prompt',
  costCompletion: 'llm.cost.completion',
  inputMessages: 'llm.input_messages',
  outputMessages: 'llm.output_messages',
  prompts: 'llm.prompts',
  choices: 'llm.choices',
  inputValue: 'input.value',
  inputMimeType: 'input.mime_type',
  outputValue: 'output.value',
  outputMimeType: 'output.mime_type',
  toolName: 'tool.name',
  toolId: 'tool.id',
  agentName: 'agent.name',
  graphNodeName: 'graph.node.name',
} as const;

const SPAN_KINDS: Record<string, StepType> = {
  LLM: 'llm',
  EMBEDDING: 'embedding',
  CHAIN: 'chain',
  RETRIEVER: 'retrieval',
  RERANKER: 'rerank',
  TOOL: 'tool',
  AGENT: 'agent',
  GUARDRAIL: 'guardrail',
  EVALUATOR: 'evaluator',
  PROMPT: 'prompt',
};

/**
 * OpenInference (Arize Phoenix and its instrumentations): span kind, models, provider from the vendor and
 * its host, token counts, reported cost, tools, agents, and the flattened messages rebuilt into lists.
 */
export const openInferenceMapper: Mapper = ({ attributes: a }) => {
  const type = SPAN_KINDS[str(a, OPENINFERENCE.spanKind)?.toUpperCase() ?? ''];
  return defined({
    type,
    model: firstStr(a, OPENINFERENCE.responseModelName, OPENINFERENCE.modelName),
    requestModel: firstStr(
      a,
      OPENINFERENCE.requestModelName,
      OPENINFERENCE.embeddingModelName,
      OPENINFERENCE.rerankerModelName,
    ),
    provider: providerOf(str(a, OPENINFERENCE.system), str(a, OPENINFERENCE.provider)),
    toolName: str(a, OPENINFERENCE.toolName),
    toolCallId: str(a, OPENINFERENCE.toolId),
    // graph.node.name names every node of a graph: it names an agent only on an AGENT span.
    agentName:
      str(a, OPENINFERENCE.agentName) ?? (type === 'agent' ? str(a, OPENINFERENCE.graphNodeName) : undefined),
    inputTokens: num(a, OPENINFERENCE.promptTokens),
    outputTokens: num(a, OPENINFERENCE.completionTokens),
    cachedInputTokens: num(a, OPENINFERENCE.cacheReadTokens),
    cacheWriteTokens: num(a, OPENINFERENCE.cacheWriteTokens),
    reasoningTokens: num(a, OPENINFERENCE.reasoningTokens),
    reportedCostUsd: firstNum(a, OPENINFERENCE.costTotal) ?? costOfParts(a),
    input: payloadOf(
      a,
      OPENINFERENCE.inputMessages,
      OPENINFERENCE.prompts,
      OPENINFERENCE.inputValue,
      OPENINFERENCE.inputMimeType,
    ),
    output: payloadOf(
      a,
      OPENINFERENCE.outputMessages,
      OPENINFERENCE.choices,
      OPENINFERENCE.outputValue,
      OPENINFERENCE.outputMimeType,
    ),
  });
};

/** Clouds that host other vendors' models: the host names the GenAI provider (`llm.provider`, §3). */
function providerOf(system: string | undefined, host: string | undefined): string | undefined {
  switch (host?.toLowerCase()) {
    case 'azure':
      return system === undefined || system.toLowerCase() === 'openai'
        ? 'azure.ai.openai'
        : 'azure.ai.inference';
    case 'aws':
      return 'aws.bedrock';
    default: {
      const name = system ?? host;
      return name === undefined ? undefined : normalizeProvider(name);
    }
  }
}

/** `llm.cost.prompt` + `llm.cost.completion` when no total is given. */
function costOfParts(a: Attributes): number | undefined {
  const prompt = num(a, OPENINFERENCE.costPrompt);
  const completion = num(a, OPENINFERENCE.costCompletion);
  return prompt === undefined && completion === undefined ? undefined : (prompt ?? 0) + (completion ?? 0);
}

/** Messages (or legacy prompts/choices) rebuilt from their flattened keys, else the generic value. */
function payloadOf(
  a: Attributes,
  messagesKey: string,
  legacyKey: string,
  valueKey: string,
  mimeKey: string,
): unknown {
  const messages = indexedList(a, messagesKey);
  if (messages) return { messages: unwrap(messages) };
  const legacy = indexedList(a, legacyKey);
  if (legacy) return { messages: unwrap(legacy) };
  // text/plain stays text even when it looks like JSON.
  const value = str(a, mimeKey) === 'text/plain' ? str(a, valueKey) : structured(a, valueKey);
  return value === undefined ? undefined : { value };
}

/** The one-key wrappers of OpenInference's flattened lists (`N.message.role`, `K.tool_call.id`…). */
const WRAPPERS = new Set(['message', 'message_content', 'tool_call', 'prompt', 'completion']);

/** Drops the wrappers: `{ message: { role } }` → `{ role }`, at every level. */
function unwrap(value: AttrValue): AttrValue {
  if (Array.isArray(value)) return value.map(unwrap);
  if (!isObject(value)) return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && WRAPPERS.has(keys[0]!)) return unwrap(value[keys[0]!]!);
  const out: Attributes = {};
  for (const key of keys) out[key] = unwrap(value[key]!);
  return out;
}
