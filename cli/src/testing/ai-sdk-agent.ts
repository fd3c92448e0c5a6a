import { LegacyOpenTelemetry, OpenTelemetry } from '@ai-sdk/otel';
import {
  BatchSpanProcessor,
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { embed, generateText, stepCountIs, streamText, tool } from 'ai';
import { convertArrayToReadableStream, MockEmbeddingModelV4, MockLanguageModelV4 } from 'ai/test';
import { z } from 'zod';

/** The AI SDK's telemetry formats: `legacy` (`ai.*` spans) and `genai` (v7, GenAI conventions). */
export type AiSdkFormat = 'legacy' | 'genai';

/** What every call of the mock model reports. */
export const MOCK_USAGE = { inputTokens: 10, outputTokens: 5 };
export const MOCK_MODEL_ID = 'gpt-4o-mini';
const usage = {
  inputTokens: {
    total: MOCK_USAGE.inputTokens,
    noCache: MOCK_USAGE.inputTokens,
    cacheRead: 0,
    cacheWrite: 0,
  },
  outputTokens: { total: MOCK_USAGE.outputTokens, text: MOCK_USAGE.outputTokens, reasoning: 0 },
};
export const EMBEDDING_TOKENS = 7;

export interface AiSdkRun {
  /** Hex trace id of the run's root span. */
  traceId: string;
  text: string;
}

/**
 * Runs a two-step agent with the real AI SDK: the mock model first calls the `weather` tool, then answers.
 * Telemetry is on, named `research`, with session `s-1` and user `u-1` in the runtime context; every span
 * goes through a real tracer provider to `exporter`, flushed before this resolves.
 */
export async function runAiSdkAgent(
  call: 'generateText' | 'streamText',
  format: AiSdkFormat,
  exporter: SpanExporter,
  options: { toolFails?: boolean } = {},
): Promise<AiSdkRun> {
  return withTelemetry(format, exporter, async (telemetry) => {
    const tools = {
      weather: tool({
        inputSchema: z.object({ city: z.string() }),
        execute: async ({ city }) => {
          if (options.toolFails) throw new Error(`no weather for ${city}`);
          return `sunny in ${city}`;
        },
      }),
    };
    const settings = {
      prompt: 'What is the weather in Paris?',
      tools,
      stopWhen: stepCountIs(3),
      runtimeContext: { sessionId: 's-1', userId: 'u-1' },
      telemetry: {
        ...telemetry,
        functionId: 'research',
        includeRuntimeContext: { sessionId: true, userId: true },
      },
    };
    if (call === 'generateText') return (await generateText({ model: generatingModel(), ...settings })).text;
    return await streamText({ model: streamingModel(), ...settings }).text;
  });
}

/** Embeds one value with the real AI SDK and the mock embedding model, telemetry on. */
export async function runAiSdkEmbed(format: AiSdkFormat, exporter: SpanExporter): Promise<AiSdkRun> {
  return withTelemetry(format, exporter, async (telemetry) => {
    const model = new MockEmbeddingModelV4({
      provider: 'openai.embedding',
      modelId: 'text-embedding-3-small',
      doEmbed: async () => ({ embeddings: [[0.1, 0.2]], usage: { tokens: EMBEDDING_TOKENS }, warnings: [] }),
    });
    const result = await embed({ model, value: 'hello', telemetry: { ...telemetry, functionId: 'indexer' } });
    return String(result.embedding.length);
  });
}

type Telemetry = { isEnabled: true; integrations: LegacyOpenTelemetry | OpenTelemetry };

async function withTelemetry(
  format: AiSdkFormat,
  exporter: SpanExporter,
  body: (telemetry: Telemetry) => Promise<string>,
): Promise<AiSdkRun> {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(memory), new BatchSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('ai');
  const integrations =
    format === 'legacy'
      ? new LegacyOpenTelemetry({ tracer })
      : new OpenTelemetry({ tracer, runtimeContext: true });
  try {
    const text = await body({ isEnabled: true, integrations });
    const root = await endedRoot(memory);
    await provider.forceFlush();
    return { traceId: root.spanContext().traceId, text };
  } finally {
    await provider.shutdown();
  }
}

/** The run's root span, once ended: a stream's result may settle just before its telemetry ends. */
async function endedRoot(memory: InMemorySpanExporter) {
  for (let attempt = 0; attempt < 100; attempt++) {
    const root = memory.getFinishedSpans().find((span) => !span.parentSpanContext);
    if (root) return root;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('the AI SDK ended no root span within 2 s');
}

/** Answers the first call with a tool call, the next with text. */
function generatingModel() {
  let calls = 0;
  return new MockLanguageModelV4({
    provider: 'openai.chat',
    modelId: MOCK_MODEL_ID,
    doGenerate: async () =>
      calls++ === 0
        ? {
            content: [
              { type: 'tool-call', toolCallId: 'call-1', toolName: 'weather', input: '{"city":"Paris"}' },
            ],
            finishReason: { unified: 'tool-calls', raw: undefined },
            usage,
            warnings: [],
          }
        : {
            content: [{ type: 'text', text: 'Sunny.' }],
            finishReason: { unified: 'stop', raw: undefined },
            usage,
            warnings: [],
          },
  });
}

type StreamPart =
  Awaited<ReturnType<MockLanguageModelV4['doStream']>>['stream'] extends ReadableStream<infer P> ? P : never;

/** The same two answers, streamed. */
function streamingModel() {
  let calls = 0;
  return new MockLanguageModelV4({
    provider: 'openai.chat',
    modelId: MOCK_MODEL_ID,
    doStream: async () => ({
      stream: convertArrayToReadableStream<StreamPart>(
        calls++ === 0
          ? [
              { type: 'stream-start', warnings: [] },
              { type: 'tool-call', toolCallId: 'call-1', toolName: 'weather', input: '{"city":"Paris"}' },
              { type: 'finish', finishReason: { unified: 'tool-calls', raw: undefined }, usage },
            ]
          : [
              { type: 'stream-start', warnings: [] },
              { type: 'text-start', id: 't1' },
              { type: 'text-delta', id: 't1', delta: 'Sunny.' },
              { type: 'text-end', id: 't1' },
              { type: 'finish', finishReason: { unified: 'stop', raw: undefined }, usage },
            ],
      ),
    }),
  });
}
