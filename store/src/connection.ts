import pg from 'pg';

// int8 columns hold token counts and seqs, far below 2^53: numbers are what the API returns.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

/** Every connection's settings (see createPool); README says what to set behind a pooler that drops them. */
const SESSION_OPTIONS = '-c TimeZone=UTC -c plan_cache_mode=force_custom_plan';

/**
 * Opens a pool on `url`. Sessions run in UTC so timestamps render the same everywhere, and plan each
 * execution of a named statement for its own parameters: the writer's statements take arrays whose sizes
 * vary per batch, and PostgreSQL's generic plan for them, chosen after five executions while a fresh
 * database's tables were tiny, scanned the whole run table twice per batch until the next ANALYZE.
 * @example const pool = createPool('postgres://u:p@127.0.0.1:5432/agentrace')
 */
export function createPool(url: string, max = 10): pg.Pool {
  // A server that does not answer (a dead host, not a refused port) fails a checkout after 10 s, not the
  // OS's minutes of TCP retries: the receiver answers 503 and the client retries.
  const pool = new pg.Pool({
    connectionString: url,
    max,
    options: SESSION_OPTIONS,
    connectionTimeoutMillis: 10_000,
  });
  // An idle client's error (server restart) must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  // Nor a checked-out one's: a connection lost mid-transaction emits 'error' on its client as well as
  // failing the query, and with no listener that event would kill the process. The query's failure is
  // what the caller handles; the pool drops the broken client when it is released.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

export type { Client, Pool, PoolClient } from 'pg';

/** What a query function needs: a pool, or a client inside a transaction (`withTenant`, `inTransaction`). */
export type Queryable = Pick<pg.PoolClient, 'query'>;

/**
 * Query `types` that leave jsonb as the text PostgreSQL sent: for answers that pass documents through
 * to JSON unchanged, parsing and re-serializing them would cost most of the request (a 5,000-step timeline).
 */
export const RAW_JSONB: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.JSONB
      ? (text: string) => text
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/**
 * A connection of its own to the pool's database, outside the pool: long work on it (a backup's snapshot)
 * takes no connection from ingest or queries. The caller ends it.
 */
export async function connectOutsidePool(pool: pg.Pool): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: pool.options.connectionString,
    options: SESSION_OPTIONS,
    connectionTimeoutMillis: 10_000,
  });
  // As in the pool: a lost connection fails the query in flight, which is what the caller handles.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}
