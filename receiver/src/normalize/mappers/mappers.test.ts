import type { StepRecord } from '@agentrace/store';
import { describe, expect, it } from 'vitest';
import type { Attributes } from '../../otlp/decoded.ts';
import { Pricing } from '../../pricing/pricing.ts';
import { DEFAULT_RULES } from '../../redact/redactor.ts';
import { indexedList } from '../attribute-readers.ts';
import { normalizeRequest } from '../normalize-request.ts';
import { normalizeProvider } from '../provider-names.ts';

const ctx = {
  tenantId: '7d4f7a0e-3c1b-4f5e-9a2d-1b2c3d4e5f60',
  projectId: 'c8a1d2e3-f4a5-4b6c-8d7e-0f1a2b3c4d5e',
  pricing: Pricing.load(),
  redaction: DEFAULT_RULES,
};

interface SpanInput {
  name: string;
  attributes: Attributes;
  resource?: Attributes;
  status?: { code: number; message?: string };
}

/** One span through the whole normalization (validation, mappers, redaction, pricing) to its record. */
function normalize({ name, attributes, resource = {}, status }: SpanInput): StepRecord {
  const start = 1_795_322_162_830_000_000n;
  const { records, rejected } = normalizeRequest(ctx, [
    {
      resource,
      scopeSpans: [
        {
          scope: { name: 'tests', version: '', attributes: {} },
          spans: [
            {
              traceId: Buffer.from('5b8efff798038103d269b633813fc60c', 'hex'),
              spanId: Buffer.from('eee19b7ec3c1b174', 'hex'),
              parentSpanId: Buffer.from('eee19b7ec3c1b173', 'hex'),
              traceState: '',
              name,
              kind: 1,
              startNs: start,
              endNs: start + 1_000_000n,
              attributes,
              events: [],
              links: [],
              statusCode: status?.code ?? 0,
              statusMessage: status?.message ?? '',
            },
          ],
        },
      ],
    },
  ]);
  expect(rejected).toBe(0);
  return records[0]!;
}

/** What the mapping table checks of a record: every field, so that a value where none belongs fails too. */
function mappedFields(r: StepRecord) {
  return {
    type: r.type,
    model: r.model,
    requestModel: r.requestModel,
    provider: r.provider,
    toolName: r.toolName,
    agentName: r.agentName,
    inputTokens: r.inputTokens,
    outputTokens: r.outputTokens,
    runName: r.run.name,
    sessionId: r.run.sessionId,
    userId: r.run.userId,
    invocation: r.invocation && {
      kind: r.invocation.kind,
      target: r.invocation.target,
      invoker: r.invocation.invoker,
    },
  };
}

type Expected = Partial<ReturnType<typeof mappedFields>>;
const NONE: ReturnType<typeof mappedFields> = {
  type: 'other',
  model: null,
  requestModel: null,
  provider: null,
  toolName: null,
  agentName: null,
  inputTokens: null,
  outputTokens: null,
  runName: null,
  sessionId: null,
  userId: null,
  invocation: null,
};

const model = (target: string, invoker: string | null = null) => ({
  kind: 'model' as const,
  target,
  invoker,
});
const called = (
  kind: 'tool' | 'agent' | 'embedding' | 'retrieval',
  target: string,
  invoker: string | null = null,
) => ({
  kind,
  target,
  invoker,
});

// [convention and case, span, expected fields (the rest must be empty)]
const TABLE: [string, SpanInput, Expected][] = [
  // Langfuse
  [
    'langfuse: generation, with usage details as JSON and trace-level names',
    {
      name: 'answer',
      attributes: {
        'langfuse.observation.type': 'generation',
        'langfuse.observation.model.name': 'claude-sonnet-4',
        'langfuse.observation.usage_details': '{"input":120,"output":30,"total":150}',
        'langfuse.trace.name': 'support-bot',
        'langfuse.session.id': 'lf-session',
        'langfuse.user.id': 'lf-user',
      },
    },
    {
      type: 'llm',
      model: 'claude-sonnet-4',
      inputTokens: 120,
      outputTokens: 30,
      runName: 'support-bot',
      sessionId: 'lf-session',
      userId: 'lf-user',
      invocation: model('claude-sonnet-4'),
    },
  ],
  [
    'langfuse: generation, with usage details as a structured value',
    {
      name: 'answer',
      attributes: {
        'langfuse.observation.type': 'generation',
        'langfuse.observation.model.name': 'claude-sonnet-4',
        'langfuse.observation.usage_details': { input: 7, output: 2 },
      },
    },
    {
      type: 'llm',
      model: 'claude-sonnet-4',
      inputTokens: 7,
      outputTokens: 2,
      invocation: model('claude-sonnet-4'),
    },
  ],
  [
    'langfuse: embedding',
    {
      name: 'embed',
      attributes: { 'langfuse.observation.type': 'embedding', 'langfuse.observation.model.name': 'e5' },
    },
    { type: 'embedding', model: 'e5', invocation: { kind: 'embedding', target: 'e5', invoker: null } },
  ],
  [
    'langfuse: agent',
    { name: 'planner', attributes: { 'langfuse.observation.type': 'agent' } },
    { type: 'agent', invocation: called('agent', 'planner') },
  ],
  [
    'langfuse: tool',
    { name: 'web_search', attributes: { 'langfuse.observation.type': 'tool' } },
    { type: 'tool', invocation: called('tool', 'web_search') },
  ],
  [
    'langfuse: chain',
    { name: 'pipeline', attributes: { 'langfuse.observation.type': 'chain' } },
    { type: 'chain' },
  ],
  [
    'langfuse: retriever',
    { name: 'kb', attributes: { 'langfuse.observation.type': 'retriever' } },
    { type: 'retrieval', invocation: called('retrieval', 'kb') },
  ],
  [
    'langfuse: guardrail',
    { name: 'pii', attributes: { 'langfuse.observation.type': 'guardrail' } },
    { type: 'guardrail' },
  ],
  [
    'langfuse: evaluator',
    { name: 'judge', attributes: { 'langfuse.observation.type': 'evaluator' } },
    { type: 'evaluator' },
  ],
  [
    'langfuse: a generic span leaves the kind to the other conventions',
    {
      name: 'chat gpt-4o',
      attributes: { 'langfuse.observation.type': 'span', 'gen_ai.operation.name': 'chat' },
    },
    { type: 'llm', invocation: model('unknown') },
  ],
  [
    'langfuse: its observation type wins over OpenInference',
    { name: 'x', attributes: { 'langfuse.observation.type': 'tool', 'openinference.span.kind': 'LLM' } },
    { type: 'tool', invocation: called('tool', 'x') },
  ],

  // OpenInference
  [
    'openinference: LLM',
    {
      name: 'ChatOpenAI',
      attributes: {
        'openinference.span.kind': 'LLM',
        'llm.model_name': 'gpt-4o-mini-2024-07-18',
        'llm.request.model_name': 'gpt-4o-mini',
        'llm.system': 'openai',
        'llm.provider': 'openai',
        'llm.token_count.prompt': 30,
        'llm.token_count.completion': 7,
        'llm.token_count.total': 37,
        'session.id': 'oi-session',
        'user.id': 'oi-user',
      },
    },
    {
      type: 'llm',
      model: 'gpt-4o-mini-2024-07-18',
      requestModel: 'gpt-4o-mini',
      provider: 'openai',
      inputTokens: 30,
      outputTokens: 7,
      sessionId: 'oi-session',
      userId: 'oi-user',
      invocation: model('gpt-4o-mini-2024-07-18'),
    },
  ],
  [
    'openinference: LLM, response model named by llm.response.model_name',
    {
      name: 'llm',
      attributes: {
        'openinference.span.kind': 'LLM',
        'llm.model_name': 'm',
        'llm.response.model_name': 'm-2025',
      },
    },
    { type: 'llm', model: 'm-2025', invocation: model('m-2025') },
  ],
  [
    'openinference: OpenAI models hosted on Azure',
    {
      name: 'llm',
      attributes: { 'openinference.span.kind': 'LLM', 'llm.system': 'openai', 'llm.provider': 'azure' },
    },
    { type: 'llm', provider: 'azure.ai.openai', invocation: model('unknown') },
  ],
  [
    'openinference: another vendor hosted on Azure',
    {
      name: 'llm',
      attributes: { 'openinference.span.kind': 'LLM', 'llm.system': 'mistralai', 'llm.provider': 'azure' },
    },
    { type: 'llm', provider: 'azure.ai.inference', invocation: model('unknown') },
  ],
  [
    'openinference: Anthropic on AWS',
    {
      name: 'llm',
      attributes: { 'openinference.span.kind': 'LLM', 'llm.system': 'anthropic', 'llm.provider': 'aws' },
    },
    { type: 'llm', provider: 'aws.bedrock', invocation: model('unknown') },
  ],
  [
    'openinference: Vertex AI on Google',
    {
      name: 'llm',
      attributes: { 'openinference.span.kind': 'LLM', 'llm.system': 'vertexai', 'llm.provider': 'google' },
    },
    { type: 'llm', provider: 'gcp.vertex_ai', invocation: model('unknown') },
  ],
  [
    'openinference: EMBEDDING',
    {
      name: 'embed',
      attributes: {
        'openinference.span.kind': 'EMBEDDING',
        'embedding.model_name': 'text-embedding-3-small',
      },
    },
    {
      type: 'embedding',
      requestModel: 'text-embedding-3-small',
      invocation: called('embedding', 'text-embedding-3-small'),
    },
  ],
  [
    'openinference: CHAIN',
    { name: 'RunnableSequence', attributes: { 'openinference.span.kind': 'CHAIN' } },
    { type: 'chain' },
  ],
  [
    'openinference: RETRIEVER',
    { name: 'VectorStoreRetriever', attributes: { 'openinference.span.kind': 'RETRIEVER' } },
    { type: 'retrieval', invocation: called('retrieval', 'VectorStoreRetriever') },
  ],
  [
    'openinference: RERANKER',
    {
      name: 'rerank',
      attributes: { 'openinference.span.kind': 'RERANKER', 'reranker.model_name': 'rerank-v3' },
    },
    { type: 'rerank', requestModel: 'rerank-v3' },
  ],
  [
    'openinference: TOOL',
    {
      name: 'tool',
      attributes: { 'openinference.span.kind': 'TOOL', 'tool.name': 'get_weather', 'tool.id': 'call_1' },
    },
    { type: 'tool', toolName: 'get_weather', invocation: called('tool', 'get_weather') },
  ],
  [
    'openinference: AGENT named by agent.name',
    { name: 'Agent', attributes: { 'openinference.span.kind': 'AGENT', 'agent.name': 'researcher' } },
    { type: 'agent', agentName: 'researcher', invocation: called('agent', 'researcher') },
  ],
  [
    'openinference: AGENT named by its graph node',
    { name: 'node', attributes: { 'openinference.span.kind': 'AGENT', 'graph.node.name': 'writer' } },
    { type: 'agent', agentName: 'writer', invocation: called('agent', 'writer') },
  ],
  [
    'openinference: a graph node name on a CHAIN names no agent',
    { name: 'node', attributes: { 'openinference.span.kind': 'CHAIN', 'graph.node.name': 'retrieve' } },
    { type: 'chain' },
  ],
  [
    'openinference: GUARDRAIL',
    { name: 'g', attributes: { 'openinference.span.kind': 'GUARDRAIL' } },
    { type: 'guardrail' },
  ],
  [
    'openinference: EVALUATOR',
    { name: 'e', attributes: { 'openinference.span.kind': 'EVALUATOR' } },
    { type: 'evaluator' },
  ],
  [
    'openinference: PROMPT',
    { name: 'p', attributes: { 'openinference.span.kind': 'PROMPT' } },
    { type: 'prompt' },
  ],
  [
    'openinference: its span kind wins over gen_ai.operation.name',
    { name: 'x', attributes: { 'openinference.span.kind': 'CHAIN', 'gen_ai.operation.name': 'chat' } },
    { type: 'chain' },
  ],

  // OpenLLMetry / Traceloop
  [
    'openllmetry: workflow',
    {
      name: 'research.workflow',
      attributes: {
        'traceloop.span.kind': 'workflow',
        'traceloop.entity.name': 'research',
        'traceloop.workflow.name': 'research',
        'traceloop.association.properties.session_id': 'tl-session',
        'traceloop.association.properties.user_id': 'tl-user',
      },
    },
    { type: 'chain', runName: 'research', sessionId: 'tl-session', userId: 'tl-user' },
  ],
  [
    'openllmetry: task',
    {
      name: 'summarize.task',
      attributes: { 'traceloop.span.kind': 'task', 'traceloop.entity.name': 'summarize' },
    },
    { type: 'chain' },
  ],
  [
    'openllmetry: agent',
    {
      name: 'researcher.agent',
      attributes: {
        'traceloop.span.kind': 'agent',
        'traceloop.entity.name': 'researcher',
        'gen_ai.agent.name': 'researcher',
      },
    },
    { type: 'agent', agentName: 'researcher', invocation: called('agent', 'researcher') },
  ],
  [
    'openllmetry: tool',
    {
      name: 'get_weather.tool',
      attributes: { 'traceloop.span.kind': 'tool', 'traceloop.entity.name': 'get_weather' },
    },
    { type: 'tool', toolName: 'get_weather', invocation: called('tool', 'get_weather') },
  ],
  [
    'openllmetry: LLM call before v0.55 (llm.request.type, gen_ai.system, prompt/completion token names)',
    {
      name: 'openai.chat',
      attributes: {
        'llm.request.type': 'chat',
        'gen_ai.system': 'openai',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.response.model': 'gpt-4o-2024-08-06',
        'gen_ai.usage.prompt_tokens': 11,
        'gen_ai.usage.completion_tokens': 4,
        'llm.usage.total_tokens': 15,
      },
    },
    {
      type: 'llm',
      model: 'gpt-4o-2024-08-06',
      requestModel: 'gpt-4o',
      provider: 'openai',
      inputTokens: 11,
      outputTokens: 4,
      invocation: model('gpt-4o-2024-08-06'),
    },
  ],
  [
    'openllmetry: completion request',
    {
      name: 'openai.completion',
      attributes: { 'llm.request.type': 'completion', 'gen_ai.request.model': 'davinci' },
    },
    { type: 'llm', requestModel: 'davinci', invocation: model('davinci') },
  ],
  [
    'openllmetry: embedding request',
    {
      name: 'openai.embeddings',
      attributes: { 'llm.request.type': 'embedding', 'gen_ai.request.model': 'ada' },
    },
    { type: 'embedding', requestModel: 'ada', invocation: called('embedding', 'ada') },
  ],
  [
    'openllmetry: rerank request',
    { name: 'cohere.rerank', attributes: { 'llm.request.type': 'rerank', 'gen_ai.system': 'Cohere' } },
    { type: 'rerank', provider: 'cohere' },
  ],
  [
    'openllmetry v0.55+: chat with gen_ai.provider.name',
    {
      name: 'chat gpt-4o',
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.usage.input_tokens': 5,
        'gen_ai.usage.output_tokens': 1,
        'gen_ai.usage.total_tokens': 6,
      },
    },
    {
      type: 'llm',
      requestModel: 'gpt-4o',
      provider: 'openai',
      inputTokens: 5,
      outputTokens: 1,
      invocation: model('gpt-4o'),
    },
  ],
  [
    'openllmetry v0.55+: execute_task',
    { name: 'summarize.task', attributes: { 'gen_ai.operation.name': 'execute_task' } },
    { type: 'chain' },
  ],
  [
    'openllmetry v0.55+: llm_request',
    { name: 'llm', attributes: { 'gen_ai.operation.name': 'llm_request', 'gen_ai.request.model': 'm' } },
    { type: 'llm', requestModel: 'm', invocation: model('m') },
  ],
  [
    'openllmetry v0.55+: vector_db_retrieve',
    { name: 'pinecone.query', attributes: { 'gen_ai.operation.name': 'vector_db_retrieve' } },
    { type: 'retrieval', invocation: called('retrieval', 'pinecone.query') },
  ],

  // Vercel AI SDK, legacy format
  [
    'ai sdk legacy: ai.generateText repeats its calls usage, so it is a chain, not a model call',
    {
      name: 'ai.generateText',
      attributes: {
        'ai.operationId': 'ai.generateText',
        'ai.telemetry.functionId': 'research',
        'ai.model.provider': 'openai.chat',
        'ai.model.id': 'gpt-4o-mini',
        'ai.usage.inputTokens': 20,
        'ai.usage.outputTokens': 10,
        'ai.telemetry.metadata.sessionId': 's-1',
        'ai.telemetry.metadata.userId': 'u-1',
      },
    },
    {
      type: 'chain',
      requestModel: 'gpt-4o-mini',
      provider: 'openai',
      agentName: 'research',
      inputTokens: 20,
      outputTokens: 10,
      runName: 'research',
      sessionId: 's-1',
      userId: 'u-1',
    },
  ],
  [
    'ai sdk legacy: ai.streamText',
    { name: 'ai.streamText', attributes: { 'ai.operationId': 'ai.streamText', 'ai.usage.promptTokens': 3 } },
    { type: 'chain', inputTokens: 3 },
  ],
  [
    'ai sdk legacy: ai.generateObject',
    { name: 'ai.generateObject', attributes: { 'ai.operationId': 'ai.generateObject' } },
    { type: 'chain' },
  ],
  [
    'ai sdk legacy: ai.embed repeats its call usage',
    { name: 'ai.embed', attributes: { 'ai.operationId': 'ai.embed', 'ai.usage.tokens': 7 } },
    { type: 'chain', inputTokens: 7 },
  ],
  [
    'ai sdk legacy: doGenerate, whose raw provider id is also in gen_ai.system',
    {
      name: 'ai.generateText.doGenerate',
      attributes: {
        'ai.operationId': 'ai.generateText.doGenerate',
        'ai.telemetry.functionId': 'research',
        'ai.model.provider': 'openai.chat',
        'ai.model.id': 'gpt-4o-mini',
        'gen_ai.system': 'openai.chat',
        'ai.response.model': 'gpt-4o-mini-2024-07-18',
        'ai.usage.promptTokens': 10,
        'ai.usage.completionTokens': 5,
      },
    },
    {
      type: 'llm',
      model: 'gpt-4o-mini-2024-07-18',
      requestModel: 'gpt-4o-mini',
      provider: 'openai',
      agentName: 'research',
      inputTokens: 10,
      outputTokens: 5,
      runName: 'research',
      invocation: model('gpt-4o-mini-2024-07-18', 'research'),
    },
  ],
  [
    'ai sdk legacy: doStream',
    {
      name: 'ai.streamText.doStream',
      attributes: {
        'ai.operationId': 'ai.streamText.doStream',
        'ai.model.provider': 'anthropic.messages',
        'ai.model.id': 'claude-haiku',
        'ai.usage.inputTokens': 9,
        'ai.usage.outputTokens': 2,
      },
    },
    {
      type: 'llm',
      requestModel: 'claude-haiku',
      provider: 'anthropic',
      inputTokens: 9,
      outputTokens: 2,
      invocation: model('claude-haiku'),
    },
  ],
  [
    'ai sdk legacy: doEmbed',
    {
      name: 'ai.embedMany.doEmbed',
      attributes: {
        'ai.operationId': 'ai.embedMany.doEmbed',
        'ai.model.provider': 'openai.embedding',
        'ai.model.id': 'text-embedding-3-small',
        'ai.usage.tokens': 7,
      },
    },
    {
      type: 'embedding',
      requestModel: 'text-embedding-3-small',
      provider: 'openai',
      inputTokens: 7,
      invocation: called('embedding', 'text-embedding-3-small'),
    },
  ],
  [
    'ai sdk legacy: ai.toolCall',
    {
      name: 'ai.toolCall',
      attributes: { 'ai.operationId': 'ai.toolCall', 'ai.toolCall.name': 'weather', 'ai.toolCall.id': 'c1' },
    },
    { type: 'tool', toolName: 'weather', invocation: called('tool', 'weather') },
  ],
  [
    'ai sdk legacy: ai.rerank',
    { name: 'ai.rerank', attributes: { 'ai.operationId': 'ai.rerank' } },
    { type: 'rerank' },
  ],

  // Vercel AI SDK v7 (GenAI format)
  [
    'ai sdk v7: the invoke_agent root repeats its calls usage and is an agent, not a model call',
    {
      name: 'invoke_agent gpt-4o-mini',
      attributes: {
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o-mini',
        'gen_ai.agent.name': 'research',
        'gen_ai.usage.input_tokens': 20,
        'gen_ai.usage.output_tokens': 10,
        'ai.settings.context.sessionId': 's-7',
        'ai.settings.context.userId': 'u-7',
      },
    },
    {
      type: 'agent',
      requestModel: 'gpt-4o-mini',
      provider: 'openai',
      agentName: 'research',
      inputTokens: 20,
      outputTokens: 10,
      sessionId: 's-7',
      userId: 'u-7',
      invocation: called('agent', 'research'),
    },
  ],
  [
    'ai sdk v7: step N',
    { name: 'step 1', attributes: { 'gen_ai.operation.name': 'agent_step' } },
    { type: 'chain' },
  ],
  [
    'ai sdk v7: chat',
    {
      name: 'chat gpt-4o-mini',
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o-mini',
        'gen_ai.response.model': 'gpt-4o-mini',
        'gen_ai.usage.input_tokens': 10,
        'gen_ai.usage.output_tokens': 5,
      },
    },
    {
      type: 'llm',
      model: 'gpt-4o-mini',
      requestModel: 'gpt-4o-mini',
      provider: 'openai',
      inputTokens: 10,
      outputTokens: 5,
      invocation: model('gpt-4o-mini'),
    },
  ],
  [
    'ai sdk v7: execute_tool',
    {
      name: 'execute_tool weather',
      attributes: {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': 'weather',
        'gen_ai.tool.type': 'function',
      },
    },
    { type: 'tool', toolName: 'weather', invocation: called('tool', 'weather') },
  ],
  [
    'ai sdk v7: embeddings',
    {
      name: 'embeddings text-embedding-3-small',
      attributes: {
        'gen_ai.operation.name': 'embeddings',
        'gen_ai.request.model': 'text-embedding-3-small',
        'gen_ai.usage.input_tokens': 7,
      },
    },
    {
      type: 'embedding',
      requestModel: 'text-embedding-3-small',
      inputTokens: 7,
      invocation: called('embedding', 'text-embedding-3-small'),
    },
  ],
  [
    'ai sdk v7: rerank',
    {
      name: 'rerank rerank-v3',
      attributes: { 'gen_ai.operation.name': 'rerank', 'gen_ai.request.model': 'rerank-v3' },
    },
    { type: 'rerank', requestModel: 'rerank-v3' },
  ],

  // An inherited gen_ai.agent.name does not make an agent
  [
    'trap: an OpenLLMetry task under an agent inherits its name without becoming an agent',
    {
      name: 'summarize.task',
      attributes: {
        'traceloop.span.kind': 'task',
        'traceloop.entity.name': 'summarize',
        'gen_ai.agent.name': 'researcher',
      },
    },
    { type: 'chain', agentName: 'researcher' },
  ],
  [
    'trap: an OpenLLMetry LLM call under an agent is invoked by it',
    {
      name: 'openai.chat',
      attributes: {
        'llm.request.type': 'chat',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.agent.name': 'researcher',
      },
    },
    {
      type: 'llm',
      requestModel: 'gpt-4o',
      agentName: 'researcher',
      invocation: model('gpt-4o', 'researcher'),
    },
  ],
  [
    'trap: a span with nothing but an inherited agent name is no agent',
    { name: 'do_work', attributes: { 'gen_ai.agent.name': 'researcher' } },
    { agentName: 'researcher' },
  ],
  [
    'trap: an OpenInference LLM span naming its agent is still an LLM call',
    {
      name: 'llm',
      attributes: { 'openinference.span.kind': 'LLM', 'agent.name': 'writer', 'llm.model_name': 'm' },
    },
    { type: 'llm', model: 'm', agentName: 'writer', invocation: model('m', 'writer') },
  ],

  // Session and user: from the span (first key by priority), else the resource
  [
    'trap: langfuse.session.id wins over session.id on the same span',
    {
      name: 'x',
      attributes: {
        'langfuse.session.id': 'lf',
        'session.id': 'otel',
        'langfuse.user.id': 'lu',
        'user.id': 'ou',
      },
    },
    { sessionId: 'lf', userId: 'lu' },
  ],
  [
    'trap: session.id wins over gen_ai.conversation.id, enduser.id is a user',
    { name: 'x', attributes: { 'gen_ai.conversation.id': 'conv', 'session.id': 'otel', 'enduser.id': 'eu' } },
    { sessionId: 'otel', userId: 'eu' },
  ],
  [
    'trap: gen_ai.conversation.id is a session',
    { name: 'x', attributes: { 'gen_ai.conversation.id': 'conv' } },
    { sessionId: 'conv' },
  ],
  [
    'trap: a session on the span wins over one on the resource',
    {
      name: 'x',
      attributes: { 'traceloop.association.properties.session_id': 'span-s' },
      resource: { 'session.id': 'res-s', 'user.id': 'res-u' },
    },
    { sessionId: 'span-s', userId: 'res-u' },
  ],
  [
    'trap: session and user from the resource when the span has none, whatever the convention',
    {
      name: 'x',
      attributes: {},
      resource: { 'langfuse.session.id': 'res-lf', 'ai.telemetry.metadata.userId': 'res-ai' },
    },
    { sessionId: 'res-lf', userId: 'res-ai' },
  ],
];

describe('mappers: the mapping table, one row per convention and step kind, plus the traps', () => {
  it.each(TABLE)('%s', (_, span, expected) => {
    expect(mappedFields(normalize(span))).toEqual({ ...NONE, ...expected });
  });
});

describe('mappers: messages become structured input and output', () => {
  const messages = [{ role: 'user', parts: [{ type: 'text', content: 'Weather in Paris?' }] }];
  const reply = [{ role: 'assistant', parts: [{ type: 'text', content: 'Sunny' }], finish_reason: 'stop' }];

  // [case, attributes, payload.input, payload.output]
  it.each<[string, Attributes, unknown, unknown]>([
    [
      'GenAI messages as JSON strings (OpenLLMetry v0.55+, AI SDK v7)',
      {
        'gen_ai.operation.name': 'chat',
        'gen_ai.input.messages': JSON.stringify(messages),
        'gen_ai.output.messages': JSON.stringify(reply),
      },
      { messages },
      { messages: reply },
    ],
    [
      'GenAI messages as structured values',
      { 'gen_ai.operation.name': 'chat', 'gen_ai.input.messages': messages, 'gen_ai.output.messages': reply },
      { messages },
      { messages: reply },
    ],
    [
      'OpenInference flattened messages, rebuilt into lists with their contents and tool calls',
      {
        'openinference.span.kind': 'LLM',
        'llm.input_messages.0.message.role': 'system',
        'llm.input_messages.0.message.content': 'Be brief.',
        'llm.input_messages.1.message.role': 'user',
        'llm.input_messages.1.message.contents.0.message_content.type': 'text',
        'llm.input_messages.1.message.contents.0.message_content.text': 'Weather in Paris?',
        'llm.output_messages.0.message.role': 'assistant',
        'llm.output_messages.0.message.tool_calls.0.tool_call.id': 'call_1',
        'llm.output_messages.0.message.tool_calls.0.tool_call.function.name': 'get_weather',
        'llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments': '{"city":"Paris"}',
        'input.value': 'ignored when messages are given',
      },
      {
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', contents: [{ type: 'text', text: 'Weather in Paris?' }] },
        ],
      },
      {
        messages: [
          {
            role: 'assistant',
            tool_calls: [{ id: 'call_1', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
          },
        ],
      },
    ],
    [
      'OpenInference messages in index order, not key order, with gaps closed',
      {
        'llm.input_messages.10.message.content': 'third',
        'llm.input_messages.2.message.content': 'second',
        'llm.input_messages.0.message.content': 'first',
      },
      { messages: [{ content: 'first' }, { content: 'second' }, { content: 'third' }] },
      undefined,
    ],
    [
      'OpenInference input.value as JSON, output.value as text',
      {
        'openinference.span.kind': 'TOOL',
        'input.value': '{"city":"Paris"}',
        'input.mime_type': 'application/json',
        'output.value': '{"not":"parsed"}',
        'output.mime_type': 'text/plain',
      },
      { value: { city: 'Paris' } },
      { value: '{"not":"parsed"}' },
    ],
    [
      'OpenLLMetry indexed prompt and completion (before v0.55), beside the GenAI prompt name',
      {
        'llm.request.type': 'chat',
        'gen_ai.prompt.name': 'weather-prompt',
        'gen_ai.prompt.0.role': 'user',
        'gen_ai.prompt.0.content': 'Weather in Paris?',
        'gen_ai.completion.0.role': 'assistant',
        'gen_ai.completion.0.finish_reason': 'tool_calls',
        'gen_ai.completion.0.tool_calls.0.name': 'get_weather',
        'gen_ai.completion.0.tool_calls.0.arguments': '{"city":"Paris"}',
      },
      { messages: [{ role: 'user', content: 'Weather in Paris?' }] },
      {
        messages: [
          {
            role: 'assistant',
            finish_reason: 'tool_calls',
            tool_calls: [{ name: 'get_weather', arguments: '{"city":"Paris"}' }],
          },
        ],
      },
    ],
    [
      'OpenLLMetry entity input and output',
      {
        'traceloop.span.kind': 'task',
        'traceloop.entity.input': '{"args":["Paris"],"kwargs":{}}',
        'traceloop.entity.output': '"Sunny"',
      },
      { value: { args: ['Paris'], kwargs: {} } },
      { value: '"Sunny"' },
    ],
    [
      'AI SDK call messages and response',
      {
        'ai.operationId': 'ai.generateText.doGenerate',
        'ai.prompt.messages': '[{"role":"user","content":[{"type":"text","text":"hi"}]}]',
        'ai.response.text': 'hello',
        'ai.response.toolCalls': '[{"toolCallId":"c1","toolName":"weather","input":{"city":"Paris"}}]',
      },
      { messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] },
      { text: 'hello', toolCalls: [{ toolCallId: 'c1', toolName: 'weather', input: { city: 'Paris' } }] },
    ],
    [
      'AI SDK operation prompt and object',
      {
        'ai.operationId': 'ai.generateObject',
        'ai.prompt': '{"system":"s","prompt":"p"}',
        'ai.response.object': '{"a":1}',
      },
      { system: 's', prompt: 'p' },
      { object: { a: 1 } },
    ],
    [
      'AI SDK tool call arguments and result',
      {
        'ai.operationId': 'ai.toolCall',
        'ai.toolCall.args': '{"city":"Paris"}',
        'ai.toolCall.result': '"sunny"',
      },
      { arguments: { city: 'Paris' } },
      { result: '"sunny"' },
    ],
    [
      'Langfuse observation input as JSON and output as a structured value',
      {
        'langfuse.observation.input': '[{"role":"user","content":"hi"}]',
        'langfuse.observation.output': { answer: 'hello' },
      },
      { value: [{ role: 'user', content: 'hi' }] },
      { value: { answer: 'hello' } },
    ],
  ])('%s', (_, attributes, input, output) => {
    const payload = JSON.parse(normalize({ name: 'span', attributes }).payloadJson);
    expect(payload.input).toEqual(input);
    expect(payload.output).toEqual(output);
  });
});

describe('mappers: reported cost', () => {
  // [case, attributes, cost_usd]; the model is priced, so a missed reported cost would show as an estimate.
  const priced = {
    'gen_ai.operation.name': 'chat',
    'gen_ai.request.model': 'gpt-4o',
    'gen_ai.usage.input_tokens': 1000,
  };
  it.each<[string, Attributes, number]>([
    ['OpenInference llm.cost.total', { ...priced, 'llm.cost.total': 0.0042, 'llm.cost.prompt': 1 }, 0.0042],
    [
      'OpenInference prompt and completion cost without a total',
      { ...priced, 'llm.cost.prompt': 0.001, 'llm.cost.completion': 0.0005 },
      0.0015,
    ],
    [
      'Langfuse cost_details total',
      { ...priced, 'langfuse.observation.cost_details': '{"input":0.1,"output":0.2,"total":0.25}' },
      0.25,
    ],
    [
      'Langfuse cost_details without a total: their sum',
      { ...priced, 'langfuse.observation.cost_details': { input: 0.5, output: 0.25 } },
      0.75,
    ],
    [
      'Langfuse wins over OpenInference',
      { ...priced, 'langfuse.observation.cost_details': '{"total":0.5}', 'llm.cost.total': 0.1 },
      0.5,
    ],
    [
      'agentrace.cost.usd wins over every convention',
      { ...priced, 'agentrace.cost.usd': 0.9, 'llm.cost.total': 0.1 },
      0.9,
    ],
    ['gen_ai.usage.cost (non-standard)', { ...priced, 'gen_ai.usage.cost': 0.02 }, 0.02],
  ])('%s', (_, attributes, cost) => {
    const record = normalize({ name: 'chat gpt-4o', attributes });
    expect(record.costUsd).toBeCloseTo(cost, 12);
    expect(record.invocation?.costSource).toBe('reported');
  });

  it('estimates the cost when no convention reports one', () => {
    const record = normalize({ name: 'chat gpt-4o', attributes: priced });
    expect(record.invocation?.costSource).toBe('estimated');
    expect(record.costUsd).toBeCloseTo((1000 * 2.5) / 1e6, 12);
  });
});

describe('mappers: Langfuse level and status message', () => {
  it('makes a span of level ERROR a failed step with the status message as its error', () => {
    const record = normalize({
      name: 'answer',
      attributes: {
        'langfuse.observation.type': 'generation',
        'langfuse.observation.level': 'ERROR',
        'langfuse.observation.status_message': 'rate limited',
      },
    });
    expect(record).toMatchObject({ status: 'error', errorType: 'error', errorMessage: 'rate limited' });
    expect(record.invocation).toMatchObject({ success: false, errorMessage: 'rate limited' });
  });

  it('keeps a span of level WARNING successful', () => {
    const record = normalize({
      name: 'answer',
      attributes: { 'langfuse.observation.level': 'WARNING', 'langfuse.observation.status_message': 'slow' },
    });
    expect(record).toMatchObject({ status: 'unset', errorMessage: null });
  });

  it('prefers the OTel status message to the Langfuse one', () => {
    const record = normalize({
      name: 'answer',
      attributes: {
        'langfuse.observation.level': 'ERROR',
        'langfuse.observation.status_message': 'from langfuse',
      },
      status: { code: 2, message: 'from the status' },
    });
    expect(record).toMatchObject({ status: 'error', errorMessage: 'from the status' });
  });
});

describe('normalizeProvider', () => {
  it.each([
    ['openai', 'openai'],
    ['OpenAI', 'openai'],
    ['azure.ai.openai', 'azure.ai.openai'],
    ['az.ai.openai', 'azure.ai.openai'],
    ['vertexai', 'gcp.vertex_ai'],
    ['mistralai', 'mistral_ai'],
    ['xai', 'x_ai'],
    ['openai.chat', 'openai'],
    ['openai.responses', 'openai'],
    ['anthropic.messages', 'anthropic'],
    ['google.vertex.chat', 'gcp.vertex_ai'],
    ['google.generative-ai', 'gcp.gemini'],
    ['amazon-bedrock', 'aws.bedrock'],
    ['azure-openai.chat', 'azure.ai.openai'],
    ['azure.chat', 'azure.ai.inference'],
    ['mistral.chat', 'mistral_ai'],
    ['xai.chat', 'x_ai'],
    ['openaix', 'openaix'],
    ['some-vendor', 'some-vendor'],
  ])('%s → %s', (given, expected) => {
    expect(normalizeProvider(given)).toBe(expected);
  });
});

describe('indexedList', () => {
  it('gives nothing when no key under the prefix is indexed', () => {
    expect(
      indexedList({ 'gen_ai.prompt.name': 'p', 'gen_ai.prompt.variable.city': 'Paris' }, 'gen_ai.prompt'),
    ).toBeUndefined();
  });

  it('does not change a structured value it extends', () => {
    const nested = { role: 'user' };
    const attrs = { 'p.0.meta': nested, 'p.0.meta.extra': 'x' };
    expect(indexedList(attrs, 'p')).toEqual([{ meta: { role: 'user', extra: 'x' } }]);
    expect(nested).toEqual({ role: 'user' });
  });
});
