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
const CLOSE_GRACE_MS = 5000;

/**
 * One Server-Sent Events response. Writes never wait: a client that leaves more than `maxBufferBytes`
 * unread is sent a final `error` event (`slow_consumer`) and closed, so it costs the others and ingest
 * nothing but its own bounded buffer.
 */
export class SseClient implements StreamSubscriber {
  readonly filter: StreamFilter;
  readonly #res: Response;
  readonly #options: SseClientOptions;
  readonly #metrics: StreamMetrics | null;
  readonly #heartbeat: NodeJS.Timeout;
  #open = true;

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

  get open(): boolean {
    return this.#open;
  }

  send(frame: string): boolean {
    if (!this.#write(frame)) return false;
    this.#metrics?.eventsSent.inc();
    return true;
  }

  end(code: 'unavailable', message: string): void {
    this.#finish(code, message, true);
  }

  #write(text: string): boolean {
    if (!this.#open) return false;
    this.#res.write(text);
    if (this.#res.writableLength > this.#options.maxBufferBytes) {
      this.#metrics?.cutOff.inc({ reason: 'slow_consumer' });
      this.#finish(
        'slow_consumer',
        `the client read too slowly (more than ${this.#options.maxBufferBytes} bytes unread); reconnect with Last-Event-ID`,
        true,
      );
      return false;
    }
    return true;
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
    this.#metrics?.subscribers.dec();
  }
}
