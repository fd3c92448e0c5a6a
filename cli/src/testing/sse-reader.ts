/** One Server-Sent Event as a client sees it. */
export interface SseEvent {
  id: string | null;
  event: string;
  data: string;
}

/**
 * A real SSE client over fetch: parses the response body as the EventSource spec does (fields, comments,
 * blank-line dispatch) and collects the events and comment lines as they arrive.
 */
export class SseReader {
  readonly status: number;
  readonly headers: Headers;
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  readonly #abort: AbortController;
  #waiters: (() => void)[] = [];

  private constructor(res: Response, abort: AbortController) {
    this.status = res.status;
    this.headers = res.headers;
    this.#abort = abort;
    this.ended = res.body ? this.#pump(res.body) : Promise.resolve();
  }

  /** Opens `url` with `headers`; the body is read in the background. */
  static async open(url: string, headers: Record<string, string>): Promise<SseReader> {
    const abort = new AbortController();
    const res = await fetch(url, {
      headers: { accept: 'text/event-stream', ...headers },
      signal: abort.signal,
    });
    return new SseReader(res, abort);
  }

  /** Waits until `count` events of `type` (any type when null) have arrived; returns them. */
  async waitFor(count: number, type: string | null = null, timeoutMs = 10_000): Promise<SseEvent[]> {
    const matching = () => this.events.filter((e) => type === null || e.event === type);
    const deadline = Date.now() + timeoutMs;
    while (matching().length < count) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`timed out waiting for ${count} ${type ?? 'events'}; got ${matching().length}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return matching().slice(0, count);
  }

  /** Events of one type, their data parsed as JSON. */
  data<T = Record<string, unknown>>(type: string): T[] {
    return this.events.filter((e) => e.event === type).map((e) => JSON.parse(e.data) as T);
  }

  close(): void {
    this.#abort.abort();
  }

  async #pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    let current: { id: string | null; event: string; data: string[] } = {
      id: null,
      event: 'message',
      data: [],
    };
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        let newline = buffer.indexOf('\n');
        while (newline >= 0) {
          const line = buffer.slice(0, newline).replace(/\r$/, '');
          buffer = buffer.slice(newline + 1);
          newline = buffer.indexOf('\n');
          if (line === '') {
            if (current.data.length > 0)
              this.events.push({ id: current.id, event: current.event, data: current.data.join('\n') });
            current = { id: null, event: 'message', data: [] };
            this.#wake();
          } else if (line.startsWith(':')) {
            this.comments.push(line.slice(1).trim());
            this.#wake();
          } else {
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'id') current.id = value;
            else if (field === 'event') current.event = value;
            else if (field === 'data') current.data.push(value);
          }
        }
      }
    } catch {
      // Aborted by close().
    }
    this.#wake();
  }

  #wake() {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}
