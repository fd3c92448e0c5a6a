import { diag } from '@opentelemetry/api';
import type { PostOutcome } from './otlp-post.ts';
import type { Spool } from './spool.ts';

export interface ReplayerOptions {
  /** Sends one spooled export request. */
  post(payload: Uint8Array): Promise<PostOutcome>;
  /** Called when the spool has been replayed to the end. */
  onDrained(): void;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

type PassResult = { done: true } | { done: false; retryAfterMs?: number };

/**
 * Replays the spool to the receiver, oldest first, one request at a time (so the order holds), in the
 * background: after a failure it waits (the receiver's Retry-After, else an exponential backoff) and tries
 * again, until the spool is empty. A request the receiver refuses for good (400, 401...) is dropped with a
 * diag error rather than retried forever. Its timers are unref'd: a pending replay never keeps the process
 * alive, and what is left stays on disk for the next start.
 */
export class Replayer {
  private loop: Promise<void> | null = null;
  private wanted = false;
  private stopped = false;
  private passes: Promise<unknown> = Promise.resolve();
  private cancelSleep: (() => void) | null = null;
  private rejectedSpans = 0;

  constructor(
    private readonly spool: Spool,
    private readonly options: ReplayerOptions,
  ) {}

  /** Starts replaying in the background, unless it already is. */
  wake(): void {
    this.wanted = true;
    if (this.loop || this.stopped) return;
    this.loop = this.runLoop().finally(() => {
      this.loop = null;
      if (this.wanted) this.wake();
    });
  }

  /**
   * Replays now, without waiting for a backoff, until the spool is empty, a request fails or `deadline`
   * (epoch ms) passes. Resolves true when the spool was emptied.
   */
  async flush(deadline = Number.POSITIVE_INFINITY): Promise<boolean> {
    return (await this.exclusivePass(deadline)).done;
  }

  /** Stops the background replay; what is left stays in the spool. */
  stop(): void {
    this.stopped = true;
    this.cancelSleep?.();
  }

  /** Spans the receiver refused for good during replay. */
  get rejected(): number {
    return this.rejectedSpans;
  }

  private async runLoop(): Promise<void> {
    let backoff = this.options.initialBackoffMs;
    while (this.wanted && !this.stopped) {
      this.wanted = false;
      const result = await this.exclusivePass(Number.POSITIVE_INFINITY);
      if (result.done) return;
      this.wanted = true;
      // The receiver's Retry-After is honoured, but never below our backoff: a 0 must not spin.
      await this.sleep(Math.max(result.retryAfterMs ?? 0, backoff));
      backoff = Math.min(backoff * 2, this.options.maxBackoffMs);
    }
  }

  /** One pass at a time, whether from the loop or from flush(). */
  private exclusivePass(deadline: number): Promise<PassResult> {
    const pass = this.passes.then(() => this.pass(deadline));
    this.passes = pass.catch(() => undefined);
    return pass;
  }

  private async pass(deadline: number): Promise<PassResult> {
    try {
      for (let batch = await this.spool.oldest(); batch; batch = await this.spool.oldest()) {
        for (const record of batch.records) {
          if (this.stopped || Date.now() > deadline) return { done: false };
          const outcome = await this.options.post(record.payload);
          if (outcome.kind === 'retry') {
            diag.debug(`agentrace spool: replay paused (${outcome.reason})`);
            return { done: false, retryAfterMs: outcome.retryAfterMs };
          }
          if (outcome.kind === 'rejected') {
            this.rejectedSpans += record.spans;
            diag.error(
              `agentrace spool: the receiver refused ${record.spans} spooled spans, dropped: ${outcome.reason}`,
            );
          }
          await this.spool.markSent(batch.segmentId, [record]);
        }
      }
    } catch (error) {
      diag.error('agentrace spool: replay failed', error);
      return { done: false };
    }
    this.options.onDrained();
    return { done: true };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.cancelSleep = done;
    });
  }
}
