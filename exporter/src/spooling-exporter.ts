import { diag } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { RETRYABLE_STATUSES } from './otlp-post.ts';
import { Replayer, type ReplayerOptions } from './replayer.ts';
import type { Spool, SpoolStats } from './spool.ts';

/**
 * A SpanExporter that never loses a batch to an unreachable receiver. Batches go to the real OTLP
 * exporter (`live`); a batch it fails to deliver for a reason a retry could fix (no connection, timeout,
 * 429/502/503/504 after its own retries) is serialized as an OTLP protobuf request into the spool and
 * reported exported, and the replayer is woken. While the spool holds anything, new batches go straight
 * behind it, so the receiver gets them in order; once the replayer has emptied it, batches go live again.
 * A batch the receiver refuses for good (400, 401, 413) is dropped with a diag error, as OTLP says.
 */
export class SpoolingExporter implements SpanExporter {
  private spooling: boolean;
  private readonly replayer: Replayer;

  constructor(
    private readonly live: SpanExporter,
    private readonly spool: Spool,
    replay: Omit<ReplayerOptions, 'onDrained'>,
  ) {
    this.replayer = new Replayer(spool, {
      ...replay,
      onDrained: () => {
        this.spooling = false;
      },
    });
    // What an earlier process left goes first.
    this.spooling = spool.stats().pendingBytes > 0;
    if (this.spooling) this.replayer.wake();
  }

  /** Replays the spool now, until it is empty, the receiver fails or `deadline` (epoch ms) passes. */
  async replay(deadline?: number): Promise<void> {
    await this.replayer.flush(deadline);
  }

  /** Stops replaying and releases the spool; what is left stays on disk for the next start. */
  async close(): Promise<void> {
    this.replayer.stop();
    await this.spool.close();
  }

  stats(): SpoolStats & { spoolDir: string; rejectedSpans: number } {
    return { ...this.spool.stats(), spoolDir: this.spool.dir, rejectedSpans: this.replayer.rejected };
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    if (this.spooling) {
      this.toSpool(spans, done);
      return;
    }
    this.live.export(spans, (result) => {
      if (result.code === ExportResultCode.SUCCESS) done(result);
      else if (isFinalRefusal(result.error)) {
        diag.error(`agentrace: the receiver refused ${spans.length} spans, dropped`, result.error);
        done(result);
      } else this.toSpool(spans, done);
    });
  }

  async forceFlush(): Promise<void> {
    await this.live.forceFlush?.();
  }

  async shutdown(): Promise<void> {
    await this.live.shutdown();
  }

  private toSpool(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.spooling = true;
    const payload = ProtobufTraceSerializer.serializeRequest(spans);
    if (!payload) {
      done({ code: ExportResultCode.SUCCESS });
      return;
    }
    this.spool.append(payload, spans.length).then(
      () => {
        this.replayer.wake();
        done({ code: ExportResultCode.SUCCESS });
      },
      (error: Error) => {
        diag.error(`agentrace: could not spool ${spans.length} spans, dropped`, error);
        done({ code: ExportResultCode.FAILED, error });
      },
    );
  }
}

/** The OTLP exporter's error for an HTTP status it will not retry carries that status as a number. */
function isFinalRefusal(error: Error | undefined): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' && !RETRYABLE_STATUSES.has(code);
}
