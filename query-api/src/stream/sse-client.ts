import type { Response } from 'express';
import type { StreamMetrics } from './stream-metrics.ts';
import type { StreamSubscriber } from './stream-hub.ts';
import type { StreamFilter } from '@agentrace/store';

export interface SseClientOptions {
  /** Bytes a client may leave unread (our buffer and the socket's) before it is cut off. */
  maxBufferBytes: number;
  /** A comment line this often keeps proxies from closing an idle stream and shows the client we are alive. */
  heartbeatMs: number;
}

/** After the final event, how long a client that does not read it keeps its connection. */
const CLOSE_GRACE_MS = 30_000;
/** How long a client may stay above its buffer limit (a burst) before it counts as slow. */
const SLOW_GRACE_MS = 1000;
/** Above this many times the limit, a client is cut off at once: the bound on memory per client. */
const HARD_LIMIT_FACTOR = 4;

/**
 * One Server-Sent Events response. Writes never wait: a client that leaves more than `maxBufferBytes`
 * unread for a second (or four times that at any moment) is sent a final `error` event (`slow_consumer`)
 * and closed, so it costs the others and ingest nothing but its own bounded buffer.
 */
export class SseClient implements StreamSubscriber {
  readonly filter: StreamFilter;
  readonly #res: Response;
  readonly #options: SseClientOptions;
  readonly #metrics: StreamMetrics | null;
  readonly #heartbeat: NodeJS.Timeout;
  #open = true;
  #overLimit: NodeJS.Timeout | null = null;

  constructor(res: Response, filter: StreamFilter, options: SseClientOptions, metrics: StreamMetrics | null) {
    this.filter = filter;
    this.#res = res;
    this.#options = options;
    this.#metrics = metrics;
    res.status(200);
    res.set({
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx and its kind would otherwise hold events back to fill their buffers.
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    metrics?.subscribers.inc();
    this.#heartbeat = setInterval(() => this.#write(': heartbeat\n\n'), options.heartbeatMs);
    res.once('close', () => this.#closed());
  }

  send(frames: string, count: number): boolean {
    if (!this.#write(frames)) return false;
    this.#metrics?.eventsSent.inc(count);
    return true;
  }

  end(code: 'unavailable', message: string): void {
    this.#finish(code, message, true);
  }

  #write(text: string): boolean {
    if (!this.#open) return false;
    this.#res.write(text);
    const unread = this.#res.writableLength;
    const limit = this.#options.maxBufferBytes;
    if (unread > limit * HARD_LIMIT_FACTOR) {
      this.#slowConsumer();
      return false;
    }
    // A burst may pass the limit for a moment; a client that does not read it within the grace is slow.
    if (unread > limit && !this.#overLimit) {
      const clear = () => {
        clearTimeout(this.#overLimit ?? undefined);
        this.#overLimit = null;
      };
      this.#overLimit = setTimeout(() => {
        this.#res.off('drain', clear);
        this.#overLimit = null;
        if (this.#res.writableLength > limit) this.#slowConsumer();
      }, SLOW_GRACE_MS);
      this.#res.once('drain', clear);
    }
    return true;
  }

  #slowConsumer() {
    if (!this.#open) return;
    this.#metrics?.cutOff.inc({ reason: 'slow_consumer' });
    this.#finish(
      'slow_consumer',
      `the client read too slowly (more than ${this.#options.maxBufferBytes} bytes unread); reconnect with Last-Event-ID`,
      true,
    );
  }

  /** Sends the final error event and closes; a client that never reads it is dropped after a grace period. */
  #finish(code: string, message: string, retryable: boolean) {
    if (!this.#open) return;
    this.#res.write(
      `event: error\ndata: ${JSON.stringify({ error: { code, message, details: {}, retryable } })}\n\n`,
    );
    this.#closed();
    this.#res.end();
    setTimeout(() => this.#res.destroy(), CLOSE_GRACE_MS).unref();
  }

  #closed() {
    if (!this.#open) return;
    this.#open = false;
    clearInterval(this.#heartbeat);
    clearTimeout(this.#overLimit ?? undefined);
    this.#metrics?.subscribers.dec();
  }
}
