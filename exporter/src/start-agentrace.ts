import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { type AgentraceOptions, resolveConfig } from './config.ts';
import { AgentraceSpanProcessor, type DeliveryStats } from './span-processor.ts';

/**
 * The running pipeline `startAgentrace` returns.
 * @example const agentrace: Agentrace = startAgentrace(); process.on('SIGTERM', () => agentrace.shutdown());
 */
export interface Agentrace {
  provider: BasicTracerProvider;
  /** Exports what has finished and replays the spool while the receiver answers. */
  forceFlush(): Promise<void>;
  /** Flushes (see forceFlush), stops, and unregisters the global OTel providers it registered. */
  shutdown(): Promise<void>;
  /** What the spool holds and what it lost; null when the spool is off or unusable. */
  stats(): DeliveryStats;
}

/**
 * Sets up OpenTelemetry tracing to an agentrace receiver in one call: a tracer provider with the service's
 * resource, the OTLP http/protobuf exporter with the key header, a 200 ms batch delay (steps show up within
 * a second), the durable spool for when the receiver is unreachable, and the global registration Node
 * agents need (the AsyncLocalStorage context manager, W3C trace context and baggage propagation). Every
 * option can also come from the environment (`AGENTRACE_*`, `OTEL_*`; see README). Shut it down before
 * the process exits to flush the last spans; a process that simply runs out of work is flushed too.
 * Throws when the settings are invalid, when no key is given, or when another TracerProvider is already
 * registered (add `createAgentraceSpanProcessor()` to that one instead).
 * @example
 * const agentrace = startAgentrace({ endpoint: 'http://127.0.0.1:4318', apiKey: process.env.INGEST_KEY, serviceName: 'planner' });
 * try {
 *   await run('plan trip', { agent: 'planner' }, () => planTrip());
 * } finally {
 *   await agentrace.shutdown();
 * }
 */
export function startAgentrace(options: AgentraceOptions = {}): Agentrace {
  const config = resolveConfig(options, process.env);
  const processor = new AgentraceSpanProcessor(config);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ ...config.resourceAttributes, 'service.name': config.serviceName }),
    spanProcessors: [processor],
  });
  if (!trace.setGlobalTracerProvider(provider)) {
    void processor.shutdown();
    throw new Error(
      'startAgentrace: another TracerProvider is registered globally; add createAgentraceSpanProcessor() to it instead',
    );
  }
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  let stopped: Promise<void> | null = null;
  const shutdown = () => {
    stopped ??= provider.shutdown().finally(() => {
      process.off('beforeExit', shutdown);
      trace.disable();
      context.disable();
      propagation.disable();
    });
    return stopped;
  };
  // A script that ends without shutting down still delivers its last batch.
  process.once('beforeExit', shutdown);
  return { provider, forceFlush: () => provider.forceFlush(), shutdown, stats: () => processor.stats() };
}
