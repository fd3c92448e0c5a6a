import {
  compareCursors,
  cursorText,
  objectKey,
  type Pool,
  type PoolClient,
  readEventRange,
  readEventsAfter,
  renderStreamObjects,
  STREAM_CHANNEL,
  type StreamCursor,
  type StreamEvent,
  type StreamFilter,
  streamStart,
  withTenant,
} from '@agentrace/store';
import type { Logger } from 'pino';

/** One connected client, as the hub sees it. */
export interface StreamSubscriber {
  readonly filter: StreamFilter;
  /** Sends `count` SSE frames at once; false when the client is gone (cut off or closed). */
  send(frames: string, count: number): boolean;
  /** Ends the client's stream with a final error event (the hub is closing or lost the database). */
  end(code: 'unavailable', message: string): void;
}

export interface StreamHubOptions {
  /** Events read per query (live and back-fill). */
  pageSize?: number;
  /** Reads the log this often even without a notification (a missed one). */
  fallbackPollMs?: number;
}

interface Attached {
  subscriber: StreamSubscriber;
  /** The last position delivered to (or skipped by) this subscriber. */
  cursor: StreamCursor;
}

/** The application_name of the LISTEN connection. */
const LISTENER_NAME = 'agentrace live stream';

/** What an attempt to attach gives: attached, the hub stopped, or a position to back-fill to first. */
type Attach = 'attached' | 'stopped' | StreamCursor;

/** A subscriber waiting for the read in flight to end before it attaches. */
interface Joiner {
  subscriber: StreamSubscriber;
  from: StreamCursor;
  resolve: (outcome: Attach) => void;
}

/** `id:`, `event:` and `data:` of one event; the data is one line (JSON has no raw newlines). */
const frameOf = (e: StreamEvent, json: string) =>
  `id: ${cursorText(e.cursor)}\nevent: ${e.type}\ndata: ${json}\n\n`;

const matches = (f: StreamFilter, e: StreamEvent): boolean =>
  f.tenantId === e.tenantId &&
  f.types.has(e.type) &&
  (f.runId === null || f.runId === e.runId) &&
  (f.projectId === null || f.projectId === e.projectId) &&
  (f.traceId === null || f.traceId === e.traceId);

/**
 * The live stream of one API process: ONE connection LISTENs for commits that wrote events (any receiver
 * or API process of the database), one reader follows the event log from there, renders each event's
 * object once and fans the frame out to every matching subscriber. A subscriber that resumes from a cursor
 * is back-filled from the log up to the reader's position and attached there, in one synchronous step
 * while no read is in flight, so that it gets each event exactly once. Sending never waits on a client:
 * slow ones are cut off by their own buffer limit (`SseClient`).
 */
export class StreamHub {
  readonly #pool: Pool;
  readonly #logger: Logger | null;
  readonly #pageSize: number;
  readonly #fallbackPollMs: number;
  readonly #attached = new Set<Attached>();
  #joiners: Joiner[] = [];
  #position: StreamCursor | null = null;
  #listener: PoolClient | null = null;
  #starting: Promise<void> | null = null;
  #reading = false;
  #readAgain = false;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(pool: Pool, options: StreamHubOptions = {}, logger: Logger | null = null) {
    this.#pool = pool;
    this.#logger = logger;
    this.#pageSize = options.pageSize ?? 1000;
    this.#fallbackPollMs = options.fallbackPollMs ?? 1000;
  }

  /**
   * Where "from now on" starts: every event committed later comes after it. Take it before telling the
   * client that it is subscribed, so that nothing it causes afterwards is missed.
   */
  now(): Promise<StreamCursor> {
    return streamStart(this.#pool);
  }

  /**
   * Delivers every event after `from` (a cursor, or `now()`) that passes the subscriber's filter, then
   * keeps it attached until `unsubscribe`. Resolves once it is attached.
   */
  async subscribe(subscriber: StreamSubscriber, from: StreamCursor): Promise<void> {
    if (this.#closed) throw new Error('the stream hub is closed');
    await this.#start();
    let cursor = from;
    for (;;) {
      // Never while a read is in flight (it was rendered without this subscriber): at its end instead.
      const outcome = this.#reading
        ? await new Promise<Attach>((resolve) => this.#joiners.push({ subscriber, from: cursor, resolve }))
        : this.#attach(subscriber, cursor);
      if (outcome === 'attached') return;
      if (outcome === 'stopped') {
        subscriber.end('unavailable', 'the live stream stopped; reconnect with Last-Event-ID');
        return;
      }
      const next = await this.#backfill(subscriber, cursor, outcome);
      if (next === null) return;
      cursor = next;
    }
  }

  /** Attaches the subscriber if it is caught up with the reader; else the position to back-fill it to. */
  #attach(subscriber: StreamSubscriber, from: StreamCursor): Attach {
    const position = this.#position;
    if (!position) return 'stopped';
    if (compareCursors(from, position) < 0) return position;
    this.#attached.add({ subscriber, cursor: from });
    return 'attached';
  }

  /** Stops delivering to `subscriber`. */
  unsubscribe(subscriber: StreamSubscriber): void {
    for (const a of this.#attached) if (a.subscriber === subscriber) this.#attached.delete(a);
  }

  /** Ends every subscriber's stream and releases the LISTEN connection. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#endAll('the server is shutting down; reconnect with Last-Event-ID');
    await this.#starting?.catch(() => undefined);
    this.#stop();
  }

  /** Events in (`from`, `through`] for one subscriber, page by page; its new position, or null once it is gone. */
  async #backfill(
    subscriber: StreamSubscriber,
    from: StreamCursor,
    through: StreamCursor,
  ): Promise<StreamCursor | null> {
    let cursor = from;
    const { tenantId } = subscriber.filter;
    for (;;) {
      const { events, objects } = await withTenant(this.#pool, tenantId, async (db) => {
        const page = await readEventRange(db, subscriber.filter, cursor, through, this.#pageSize);
        return { events: page, objects: await renderStreamObjects(db, page) };
      });
      const frames: string[] = [];
      for (const e of events) {
        const json = objects.get(objectKey(e));
        if (json !== undefined) frames.push(frameOf(e, json));
      }
      if (frames.length > 0 && !subscriber.send(frames.join(''), frames.length)) return null;
      if (events.length < this.#pageSize) return through;
      cursor = events[events.length - 1]!.cursor;
    }
  }

  #start(): Promise<void> {
    this.#starting ??= this.#connect().catch((err: unknown) => {
      this.#starting = null;
      throw err;
    });
    return this.#starting;
  }

  async #connect(): Promise<void> {
    const client = await this.#pool.connect();
    client.on('notification', this.#wake);
    // A lost connection ends the streams (clients resume from their last id) and the next subscriber starts over.
    client.on('error', (err) => {
      this.#logger?.warn(
        { err },
        'live stream lost its database connection; subscribers are asked to reconnect',
      );
      this.#endAll('the server lost its database connection; reconnect with Last-Event-ID');
      this.#stop(true);
    });
    try {
      // Named, so that operators (and tests) can tell it in pg_stat_activity.
      await client.query(`SET application_name = '${LISTENER_NAME}'; LISTEN ${STREAM_CHANNEL}`);
      // After LISTEN: any commit from here on wakes a read that starts at or before it.
      this.#position = await streamStart(client);
    } catch (err) {
      client.release(true);
      throw err;
    }
    this.#listener = client;
    this.#timer = setInterval(this.#wake, this.#fallbackPollMs);
    this.#timer.unref();
  }

  #stop(broken = false) {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    const listener = this.#listener;
    this.#listener = null;
    this.#starting = null;
    this.#position = null;
    this.#releaseJoiners();
    if (listener) {
      listener.off('notification', this.#wake);
      if (broken) listener.release(true);
      else
        listener.query(`UNLISTEN ${STREAM_CHANNEL}; RESET application_name`).then(
          () => listener.release(),
          () => listener.release(true),
        );
    }
  }

  #endAll(message: string) {
    const all = [...this.#attached];
    this.#attached.clear();
    for (const a of all) a.subscriber.end('unavailable', message);
  }

  #wake = () => {
    if (this.#reading) {
      this.#readAgain = true;
      return;
    }
    if (!this.#position) return;
    this.#reading = true;
    void this.#read();
  };

  /** Reads events until none is left, delivering each page as one synchronous step. */
  async #read(): Promise<void> {
    let retryMs = 0;
    try {
      do {
        this.#readAgain = false;
        const position = this.#position;
        if (!position) break;
        const events = await readEventsAfter(this.#pool, position, this.#pageSize);
        const filters = [...this.#attached].map((a) => a.subscriber.filter);
        // Rendered only when somebody wants it: a filtered subscriber costs nothing for the rest of the log.
        const wanted = events.filter((e) => filters.some((f) => matches(f, e)));
        const objects =
          wanted.length > 0 ? await renderStreamObjects(this.#pool, wanted) : new Map<string, string>();
        if (this.#position !== position) break; // stopped (and maybe restarted) meanwhile
        this.#deliver(events, objects);
        if (events.length === this.#pageSize) this.#readAgain = true;
        this.#releaseJoiners();
      } while (this.#readAgain);
    } catch (err) {
      this.#logger?.warn({ err }, 'live stream read failed; retrying');
      retryMs = 1000;
    } finally {
      this.#reading = false;
      this.#releaseJoiners();
    }
    if (retryMs > 0 && !this.#closed) setTimeout(this.#wake, retryMs).unref();
  }

  /** Each subscriber's frames of the page in one write (a write per event would cost a syscall each). */
  #deliver(events: StreamEvent[], objects: Map<string, string>) {
    const out = new Map<Attached, string[]>();
    for (const e of events) {
      let frame: string | null = null;
      for (const a of this.#attached) {
        if (!matches(a.subscriber.filter, e) || compareCursors(e.cursor, a.cursor) <= 0) continue;
        a.cursor = e.cursor;
        const json = objects.get(objectKey(e));
        // Gone since (retention): nothing to show, the position moves on.
        if (json === undefined) continue;
        frame ??= frameOf(e, json);
        const frames = out.get(a);
        if (frames) frames.push(frame);
        else out.set(a, [frame]);
      }
    }
    for (const [a, frames] of out) {
      if (!a.subscriber.send(frames.join(''), frames.length)) this.#attached.delete(a);
    }
    const last = events[events.length - 1];
    if (last) this.#position = last.cursor;
  }

  #releaseJoiners() {
    const joiners = this.#joiners;
    this.#joiners = [];
    for (const j of joiners) j.resolve(this.#attach(j.subscriber, j.from));
  }
}
