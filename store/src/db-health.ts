import { HttpError } from '@agentrace/schemas';
import pg from 'pg';

// Socket failures of a server that is gone or unreachable.
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
// admin_shutdown, crash_shutdown, cannot_connect_now (starting or recovering), too_many_connections.
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
// node-postgres reports a lost or never-made connection with these messages and no code.
const CONNECTION_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|not queryable|Query read timeout/i;

/**
 * Whether `err` says the database cannot be reached (down, restarting, unreachable, out of connections)
 * rather than that a statement is wrong: the first is worth a retry later, the second is a bug.
 * @example if (isDatabaseUnavailable(err)) res.status(503)
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (
    typeof code === 'string' &&
    (NETWORK_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08'))
  )
    return true;
  if (err instanceof AggregateError) return err.errors.some(isDatabaseUnavailable);
  return typeof message === 'string' && CONNECTION_MESSAGES.test(message);
}

const describe = (err: unknown) =>
  (err instanceof Error && (err.message || (err as { code?: string }).code)) || String(err);

export interface DbHealthOptions {
  /** Time between two checks while started, and the longest a check may take. */
  intervalMs: number;
}

/**
 * Whether the database answers, kept current by a check (a fresh connection and `SELECT 1`, bounded by a
 * timeout) every interval once started, on demand, and at once when a failure of the real work is
 * reported. Its own connection, not the pool's: a pool busy with ingest is not a database that is down.
 * The receiver reads `up` to refuse ingest at once (503) rather than wait on a dead server; `/readyz`
 * checks and says why.
 * @example const health = new DbHealth(pool, { intervalMs: 1000 }, (problem) => log(problem)); health.start();
 */
export class DbHealth {
  private current: string | null = null;
  private inFlight: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: DbHealthOptions = { intervalMs: 1000 },
    /** Called when the state flips: the problem, or null when the database is back. */
    private readonly onChange: (problem: string | null) => void = () => undefined,
  ) {}

  /** Whether the latest check (or reported failure) found the database reachable. */
  get up(): boolean {
    return this.current === null;
  }

  /** Why the database is unavailable, or null when it is up. */
  get problem(): string | null {
    return this.current;
  }

  /** Checks now; concurrent callers share one check (one connection at a time, whoever asks). */
  check(): Promise<void> {
    this.inFlight ??= this.probe().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  /** Checks now and then every interval, until `stop`. */
  start(): void {
    void this.check();
    this.timer = setInterval(() => void this.check(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** A failure of real work: when it means the database is unreachable, down at once, and re-checked. */
  reportFailure(err: unknown): void {
    if (!isDatabaseUnavailable(err)) return;
    this.set(describe(err));
    void this.check();
  }

  /** Throws a 503 `unavailable` (retryable) while the database is down. */
  assertUp(): void {
    if (this.current !== null) throw new HttpError('unavailable', `database unavailable: ${this.current}`);
  }

  private async probe(): Promise<void> {
    const timeout = this.options.intervalMs;
    const client = new pg.Client({
      ...this.pool.options,
      connectionTimeoutMillis: timeout,
      query_timeout: timeout,
    });
    // A server that dies under an open connection emits 'error' on it; the failed query reports it.
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      this.set(null);
    } catch (err) {
      this.set(describe(err));
    } finally {
      void client.end().catch(() => undefined);
    }
  }

  private set(problem: string | null): void {
    const changed = (problem === null) !== (this.current === null);
    this.current = problem;
    if (changed) this.onChange(problem);
  }
}
