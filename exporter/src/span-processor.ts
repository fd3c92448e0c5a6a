import type { Context } from '@opentelemetry/api';
import { diag } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import {
  BatchSpanProcessor,
  type ReadableSpan,
  type Span,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { type AgentraceOptions, type ExporterConfig, resolveConfig } from './config.ts';
import { Spool } from './spool.ts';
import { SpoolingExporter } from './spooling-exporter.ts';

/**
 * What the spool holds and what it lost; null when the spool is off or unusable.
 * @example const stats: DeliveryStats = agentrace.stats(); if (stats?.droppedSpans) alert('spans lost');
 */
export type DeliveryStats = ReturnType<SpoolingExporter['stats']> | null;

/** The first replay retry waits this long; later ones double it up to the configured maximum. */
const INITIAL_BACKOFF_MS = 250;

/**
 * The agentrace delivery pipeline as one SpanProcessor, for a TracerProvider you set up yourself: a
 * BatchSpanProcessor with a short delay over an OTLP http/protobuf exporter with the durable spool
 * (`SpoolingExporter`), or over the official OTLP exporter when the spool is off. `startAgentrace` uses
 * it; add it to your own provider when you have one.
 * @example
 * const provider = new BasicTracerProvider({ spanProcessors: [createAgentraceSpanProcessor(), myProcessor] });
 */
export class AgentraceSpanProcessor implements SpanProcessor {
  private readonly batch: BatchSpanProcessor;
  private readonly spooling: SpoolingExporter | null;

  constructor(private readonly config: ExporterConfig) {
    const target = { url: config.tracesUrl, headers: config.headers, timeoutMs: config.exportTimeoutMs };
    const spool = openSpool(config);
    this.spooling =
      spool &&
      new SpoolingExporter(
        target,
        spool,
        {
          initialBackoffMs: INITIAL_BACKOFF_MS,
          maxBackoffMs: config.spool!.maxBackoffMs,
        },
        config.maxQueueSpans,
      );
    // Without a spool: the official exporter, with its own in-memory retries.
    const exporter =
      this.spooling ??
      new OTLPTraceExporter({ url: target.url, headers: target.headers, timeoutMillis: target.timeoutMs });
    this.batch = new BatchSpanProcessor(exporter, {
      scheduledDelayMillis: config.batchDelayMs,
      maxQueueSize: config.maxQueueSpans,
      maxExportBatchSize: config.maxBatchSpans,
      // Beyond the request's own deadline, room to write the batch to the spool.
      exportTimeoutMillis: config.exportTimeoutMs + 5000,
    });
  }

  onStart(span: Span, parentContext: Context): void {
    this.batch.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    this.batch.onEnd(span);
  }

  /**
   * Exports the finished spans now, then replays the spool until it is empty or the receiver fails. A
   * delivery failure is reported through diag, not thrown: flushing never fails the agent.
   */
  async forceFlush(): Promise<void> {
    await this.batch.forceFlush().catch(reportUndelivered);
    await this.spooling?.settled();
    await this.spooling?.replay();
  }

  /**
   * Flushes, gives the spool one more chance within the export timeout, and stops. Spans still spooled
   * stay on disk and are replayed by the next start with the same spool directory.
   */
  async shutdown(): Promise<void> {
    await this.batch.forceFlush().catch(reportUndelivered);
    await this.spooling?.settled();
    await this.spooling?.replay(Date.now() + this.config.exportTimeoutMs);
    await this.batch.shutdown().catch(reportUndelivered);
  }

  stats(): DeliveryStats {
    return this.spooling?.stats() ?? null;
  }
}

/**
 * Builds the processor from options and the environment, as `startAgentrace` does.
 * @example
 * const provider = new BasicTracerProvider({ spanProcessors: [createAgentraceSpanProcessor({ serviceName: 'planner' })] });
 */
export function createAgentraceSpanProcessor(options: AgentraceOptions = {}): AgentraceSpanProcessor {
  return new AgentraceSpanProcessor(resolveConfig(options, process.env));
}

function reportUndelivered(error: unknown): void {
  diag.warn('agentrace: some spans could not be delivered', error);
}

function openSpool(config: ExporterConfig): Spool | null {
  if (!config.spool) return null;
  try {
    return Spool.open(config.spool.dir, { maxBytes: config.spool.maxBytes });
  } catch (error) {
    diag.warn(`agentrace: no spool, undelivered spans will be lost: ${(error as Error).message}`);
    return null;
  }
}
