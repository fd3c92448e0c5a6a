import pg from 'pg';
import type { Queryable } from './connection.ts';

/** A table whose rows a backup holds, with its columns in COPY order. */
export interface DataTable {
  name: string;
  columns: string[];
  partitioned: boolean;
}

/**
 * Left out of backups: the migrations ledger (a restore migrates the empty database itself), the backup
 * records, which describe the bucket rather than the data (and would hold the running backup's own row),
 * and the live stream's short-lived event log, whose cursors number the commits of the database that
 * wrote them (a restored database starts a new log; its subscribers read the runs again).
 */
const NOT_BACKED_UP = ['schema_migration', 'backup', 'stream_commit', 'stream_event', 'stream_horizon'];

/**
 * Our schema's tables in load order: a table comes after the tables its foreign keys point to (ties in
 * name order), so a restore may COPY them in with every constraint checked.
 */
export async function dataTables(db: Queryable): Promise<DataTable[]> {
  const { rows } = await db.query<{ name: string; columns: string[]; partitioned: boolean }>(
    `SELECT c.relname AS name, c.relkind = 'p' AS partitioned,
            array_agg(a.attname::text ORDER BY a.attnum) AS columns
     FROM pg_class c
     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
     WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
       AND c.relname <> ALL ($1)
     GROUP BY c.relname, c.relkind ORDER BY c.relname`,
    [NOT_BACKED_UP],
  );
  const fks = await db.query<{ child: string; parent: string }>(
    `SELECT ch.relname AS child, pa.relname AS parent FROM pg_constraint k
     JOIN pg_class ch ON ch.oid = k.conrelid JOIN pg_class pa ON pa.oid = k.confrelid
     WHERE k.contype = 'f' AND k.connamespace = current_schema()::regnamespace AND ch.oid <> pa.oid`,
  );
  const parents = new Map(rows.map((t) => [t.name, new Set<string>()]));
  for (const fk of fks.rows) parents.get(fk.child)?.add(fk.parent);
  const ordered: DataTable[] = [];
  const placed = new Set<string>();
  while (ordered.length < rows.length) {
    const ready = rows.filter(
      (t) => !placed.has(t.name) && [...parents.get(t.name)!].every((p) => placed.has(p) || !parents.has(p)),
    );
    if (ready.length === 0) throw new Error('foreign keys form a cycle between tables: no load order');
    for (const t of ready) {
      ordered.push(t);
      placed.add(t.name);
    }
  }
  return ordered;
}

/** The migrations applied, oldest first, and the newest one's version (0 for a database never migrated). */
export async function schemaVersion(db: Queryable): Promise<{ version: number; migrations: string[] }> {
  const exists = await db.query<{ found: boolean }>(
    `SELECT to_regclass('schema_migration') IS NOT NULL AS found`,
  );
  if (!exists.rows[0]!.found) return { version: 0, migrations: [] };
  const { rows } = await db.query<{ version: number; name: string }>(
    'SELECT version, name FROM schema_migration ORDER BY version',
  );
  return { version: rows.at(-1)?.version ?? 0, migrations: rows.map((r) => r.name) };
}

/** The COPY statement that reads a table's rows as text (a partitioned table through a query). */
export function copyOutSql(table: DataTable): string {
  const name = pg.escapeIdentifier(table.name);
  const columns = table.columns.map((c) => pg.escapeIdentifier(c)).join(', ');
  return table.partitioned
    ? `COPY (SELECT ${columns} FROM ${name}) TO STDOUT`
    : `COPY ${name} (${columns}) TO STDOUT`;
}

/**
 * Session settings that fix how COPY renders values, so that a table's text (and its checksum) reads back
 * the same on the restoring server whatever its defaults.
 */
export const COPY_TEXT_SETTINGS = `SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD';
  SET LOCAL IntervalStyle = 'postgres'; SET LOCAL extra_float_digits = 1; SET LOCAL bytea_output = 'hex'`;
