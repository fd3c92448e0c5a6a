import type { Readable } from 'node:stream';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import {
  COPY_TEXT_SETTINGS,
  copyOutSql,
  type DataTable,
  dataTables,
  schemaVersion,
} from './schema-catalog.ts';

/** What a snapshot was: the schema it had, when it was taken, its tables and sequences. */
export interface SnapshotInfo {
  schemaVersion: number;
  migrations: string[];
  /** RFC 3339 UTC: the transaction's start, which every table's rows are as of. */
  snapshotAt: string;
  tables: DataTable[];
  sequences: { name: string; last_value: string; is_called: boolean }[];
}

/**
 * Reads every table of our schema in ONE `REPEATABLE READ, READ ONLY` transaction, so the tables agree
 * with each other as of one instant, handing each table's COPY text to `onTable` (which must consume the
 * stream before it resolves). Read-only under MVCC: it blocks no writer. Run it on a connection of its own
 * (`connectOutsidePool`); if `onTable` fails, end that connection, which may be mid-COPY.
 * @example await takeSnapshot(client, (table, rows) => pipeline(rows, sink));
 */
export async function takeSnapshot(
  client: pg.ClientBase,
  onTable: (table: DataTable, rows: Readable) => Promise<void>,
): Promise<SnapshotInfo> {
  await client.query(`BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; ${COPY_TEXT_SETTINGS}`);
  try {
    // The first query fixes the snapshot; the time is the transaction's, the same instant.
    const at = await client.query<{ at: string }>(
      `SELECT to_char(transaction_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at`,
    );
    const schema = await schemaVersion(client);
    const tables = await dataTables(client);
    for (const table of tables) await onTable(table, client.query(copyTo(copyOutSql(table))));
    const sequences = await readSequences(client);
    await client.query('COMMIT');
    return {
      schemaVersion: schema.version,
      migrations: schema.migrations,
      snapshotAt: at.rows[0]!.at,
      tables,
      sequences,
    };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * Where each sequence of the schema stands. Sequences are outside transactions: read after the tables,
 * each is at least where any value in the snapshot came from, so a restored one hands out no used value.
 */
async function readSequences(client: pg.ClientBase): Promise<SnapshotInfo['sequences']> {
  const { rows } = await client.query<{ name: string; last_value: string | null; is_called: boolean }>(
    `SELECT sequencename AS name, last_value::text, last_value IS NOT NULL AS is_called
     FROM pg_sequences WHERE schemaname = current_schema() ORDER BY sequencename`,
  );
  return rows.map((r) => ({ name: r.name, last_value: r.last_value ?? '1', is_called: r.is_called }));
}
