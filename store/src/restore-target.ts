import type { Writable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Queryable } from './connection.ts';
import { COPY_TEXT_SETTINGS, type DataTable, dataTables, schemaVersion } from './schema-catalog.ts';

/** A restore that must not happen here: the database is not empty, or is newer than the archive. */
export class RestoreRefused extends Error {}

/**
 * Refuses (RestoreRefused, naming why) unless the database is empty: no row in any table (a new
 * `CREATE DATABASE`, or one only migrated) and no migration that the archive's database did not have.
 */
export async function assertEmptyDatabase(
  db: Queryable,
  archiveMigrations: readonly string[],
): Promise<void> {
  const extra = (await schemaVersion(db)).migrations.filter((m) => !archiveMigrations.includes(m));
  if (extra.length > 0) {
    throw new RestoreRefused(
      `the database has migrations the archive's did not (${extra.join(', ')}): restore into a new, empty database`,
    );
  }
  const { rows } = await db.query<{ name: string }>(
    `SELECT relname AS name FROM pg_class
     WHERE relnamespace = current_schema()::regnamespace AND relkind IN ('r', 'p') AND NOT relispartition
       AND relname <> 'schema_migration' ORDER BY relname`,
  );
  const filled: string[] = [];
  for (const { name } of rows) {
    const any = await db.query(`SELECT 1 FROM ${pg.escapeIdentifier(name)} LIMIT 1`);
    if (any.rowCount) filled.push(name);
  }
  if (filled.length > 0) {
    throw new RestoreRefused(
      `the database is not empty (rows in ${filled.join(', ')}): restore only into a new, empty database`,
    );
  }
}

/**
 * Loading an archive's tables in one transaction on `client` (migrated to the archive's schema): COPY
 * each table in, set the sequences, then commit, or roll back and leave nothing.
 * @example const load = await RestoreLoad.begin(client); await pipeline(chunks, load.copyIn(t)); ...; await load.commit();
 */
export class RestoreLoad {
  private constructor(
    private readonly client: pg.ClientBase,
    private readonly tables: Map<string, DataTable>,
  ) {}

  static async begin(client: pg.ClientBase): Promise<RestoreLoad> {
    await client.query(`BEGIN; ${COPY_TEXT_SETTINGS}`);
    const tables = await dataTables(client);
    return new RestoreLoad(client, new Map(tables.map((t) => [t.name, t])));
  }

  /** The schema's table of that name, if its columns are exactly `columns` in that order; else throws. */
  table(name: string, columns: readonly string[]): DataTable {
    const table = this.tables.get(name);
    if (!table) throw new Error(`the archive has a table "${name}" that the schema does not`);
    if (table.columns.join(',') !== columns.join(',')) {
      throw new Error(
        `the archive's columns of "${name}" (${columns.join(', ')}) differ from the schema's (${table.columns.join(', ')})`,
      );
    }
    return table;
  }

  /** Tables of the schema (after migrating to the archive's version) that the archive must hold. */
  tableNames(): string[] {
    return [...this.tables.keys()];
  }

  /** A COPY FROM STDIN into the table: write its COPY text, end it; then `rowCount` is what the server loaded. */
  copyIn(table: DataTable): Writable & { rowCount: number } {
    const columns = table.columns.map((c) => pg.escapeIdentifier(c)).join(', ');
    return this.client.query(copyFrom(`COPY ${pg.escapeIdentifier(table.name)} (${columns}) FROM STDIN`));
  }

  /** Puts each sequence where the snapshot found it. */
  async setSequences(
    sequences: readonly { name: string; last_value: string; is_called: boolean }[],
  ): Promise<void> {
    for (const s of sequences) {
      await this.client.query('SELECT setval($1::regclass, $2::bigint, $3)', [
        pg.escapeIdentifier(s.name),
        s.last_value,
        s.is_called,
      ]);
    }
  }

  async commit(): Promise<void> {
    await this.client.query('COMMIT');
  }

  async rollback(): Promise<void> {
    await this.client.query('ROLLBACK');
  }
}
