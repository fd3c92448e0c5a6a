import { context, type Span, trace } from '@opentelemetry/api';
import { Metadata } from '@grpc/grpc-js';
import type { ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter as OtlpGrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as OtlpHttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';

/** A real OTLP exporter (http/protobuf or http/json) pointed at a receiver with a key. */
export function otlpExporter(protocol: 'proto' | 'json', otlpUrl: string, key: string): SpanExporter {
  const options = { url: `${otlpUrl}/v1/traces`, headers: { authorization: `Bearer ${key}` } };
  return protocol === 'proto' ? new OtlpProtoExporter(options) : new OtlpHttpJsonExporter(options);
}

/** The real OTLP/gRPC exporter pointed at `host:port` with a key, gzip-compressed when asked. */
export function otlpGrpcExporter(address: string, key: string, compression: 'gzip' | 'none' = 'none'): SpanExporter {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${key}`);
  return new OtlpGrpcExporter({ url: `http://${address}`, metadata, compression: compression as never });
}

/** Exports `spans` through `exporter` and resolves with the export's result. */
export function exportResult(exporter: SpanExporter, spans: ReadableSpan[]): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(spans, resolve));
}

/** Exports `spans` through `exporter` and resolves with the export's result code (0 = success). */
export async function exportSpans(exporter: SpanExporter, spans: ReadableSpan[]): Promise<number> {
  return (await exportResult(exporter, spans)).code;
}

/** A tracer whose finished spans are kept in memory, to be exported by hand as a test needs. */
export function recordingTracer(serviceName = 'test-agent', resourceAttributes: Record<string, string | string[]> = {}) {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName, ...resourceAttributes }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer('agentrace-tests');
  return {
    memory,
    /** Starts a span, as a child of `parent` when given. */
    start(name: string, attributes: Record<string, string | number | boolean> = {}, parent?: Span): Span {
      const ctx = parent ? trace.setSpan(context.active(), parent) : context.active();
      return tracer.startSpan(name, { attributes }, ctx);
    },
  };
}

/**
 * A small but complete agent run: an `invoke_agent` root, two model calls with token usage, and two tool
 * calls of which the second throws.
 */
export function recordAgentRun(t: ReturnType<typeof recordingTracer>, sessionId = 'session-1'): ReadableSpan[] {
  const root = t.start('invoke_agent planner', {
    'gen_ai.operation.name': 'invoke_agent',
    'gen_ai.agent.name': 'planner',
    'session.id': sessionId,
    'agentrace.run.tags.env': 'test',
  });
  const chat1 = t.start(
    'chat gpt-4o',
    {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.response.model': 'gpt-4o-2024-08-06',
      'gen_ai.usage.input_tokens': 100,
      'gen_ai.usage.output_tokens': 20,
      'gen_ai.agent.name': 'planner',
    },
    root,
  );
  chat1.end();
  const search = t.start(
    'execute_tool search',
    { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'search', 'gen_ai.tool.call.arguments': '{"q":"otel"}' },
    root,
  );
  search.end();
  const chat2 = t.start(
    'chat gpt-4o-mini',
    {
      'gen_ai.operation.name': 'chat',
      'gen_ai.system': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.usage.prompt_tokens': 50,
      'gen_ai.usage.completion_tokens': 10,
    },
    root,
  );
  chat2.end();
  const fetchTool = t.start('execute_tool fetch', { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'fetch' }, root);
  const error = new TypeError('fetch failed: connection refused');
  fetchTool.recordException(error);
  fetchTool.setStatus({ code: 2, message: error.message });
  fetchTool.end();
  root.end();
  const spans = t.memory.getFinishedSpans();
  t.memory.reset();
  return spans;
}
