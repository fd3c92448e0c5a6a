import { GEN_AI, type StepType } from '@agentrace/schemas';
import type { Attributes } from '../../otlp/decoded.ts';
import { defined, indexedList, num, str, structured } from '../attribute-readers.ts';
import type { Mapper } from '../mapped.ts';

/** Traceloop / OpenLLMetry attribute keys (`@traceloop/ai-semantic-conventions`, semconv-ai). */
export const TRACELOOP = {
  spanKind: 'traceloop.span.kind',
  entityName: 'traceloop.entity.name',
  entityInput: 'traceloop.entity.input',
  entityOutput: 'traceloop.entity.output',
  workflowName: 'traceloop.workflow.name',
  associationPrefix: 'traceloop.association.properties.',
  requestType: 'llm.request.type',
  reasoningTokens: 'gen_ai.usage.reasoning_tokens',
  /** Before v0.55, messages are flattened under these: `gen_ai.prompt.0.role`, `gen_ai.completion.0.content`. */
  indexedPrompt: 'gen_ai.prompt',
  indexedCompletion: 'gen_ai.completion',
} as const;

/** Traceloop's own `gen_ai.operation.name` values (v0.55+), beside the GenAI ones. */
const OPERATIONS: Record<string, StepType> = {
  execute_task: 'chain',
  llm_request: 'llm',
  vector_db_retrieve: 'retrieval',
};

const SPAN_KINDS: Record<string, StepType> = {
  workflow: 'chain',
  task: 'chain',
  agent: 'agent',
  tool: 'tool',
};

const REQUEST_TYPES: Record<string, StepType> = {
  chat: 'llm',
  completion: 'llm',
  embedding: 'embedding',
  rerank: 'rerank',
};

/**
 * OpenLLMetry (Traceloop): decorator spans (`traceloop.span.kind`, entity name, input and output), LLM
 * spans (`llm.request.type`, the indexed `gen_ai.prompt.N.*` / `gen_ai.completion.N.*` messages) and the
 * workflow name. `gen_ai.agent.name` and association properties are copied onto every descendant, so they
 * say nothing about a span's kind.
 */
export const openLlmetryMapper: Mapper = ({ attributes: a }) => {
  const kind = str(a, TRACELOOP.spanKind);
  const entityName = str(a, TRACELOOP.entityName);
  return defined({
    type:
      OPERATIONS[str(a, GEN_AI.operationName) ?? ''] ??
      SPAN_KINDS[kind ?? ''] ??
      REQUEST_TYPES[str(a, TRACELOOP.requestType) ?? ''],
    runName: str(a, TRACELOOP.workflowName),
    toolName: kind === 'tool' ? entityName : undefined,
    agentName: kind === 'agent' ? entityName : undefined,
    reasoningTokens: num(a, TRACELOOP.reasoningTokens),
    input: messagesOr(a, TRACELOOP.indexedPrompt, TRACELOOP.entityInput),
    output: messagesOr(a, TRACELOOP.indexedCompletion, TRACELOOP.entityOutput),
  });
};

function messagesOr(a: Attributes, indexedKey: string, entityKey: string): unknown {
  const messages = indexedList(a, indexedKey);
  if (messages) return { messages };
  const value = structured(a, entityKey);
  return value === undefined ? undefined : { value };
}
