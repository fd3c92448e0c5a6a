import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Pool } from 'pg';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
// Any constant: serializes concurrent migrators (two `serve` processes starting at once).
const MIGRATION_LOCK_KEY = 7_461_302_001;

export interface MigrationResult {
  applied: string[];
}

/** The numbered `migrations/NNN_name.sql` files this code has, in order. */
async function migrationFiles(): Promise<string[]> {
  return (await readdir(MIGRATIONS_DIR)).filter((f) => /^\d{3}_.+\.sql$/.test(f)).sort();
}

/** The migrations this code has (`NNN_name`), oldest first. */
export async function knownMigrations(): Promise<string[]> {
  return (await migrationFiles()).map((f) => f.replace(/\.sql$/, ''));
}

/**
 * Applies every numbered `migrations/NNN_name.sql` not yet recorded, each in its own transaction; with
 * `only`, just those (a restore brings the schema to exactly its archive's migrations first).
 * @example await migrate(pool) // { applied: ['001_init'] } on an empty database
 */
export async function migrate(pool: Pool, options: { only?: readonly string[] } = {}): Promise<MigrationResult> {
  const all = await migrationFiles();
  const only = options.only;
  const unknown = only?.filter((name) => !all.includes(`${name}.sql`)) ?? [];
  if (unknown.length > 0) throw new Error(`unknown migrations: ${unknown.join(', ')}`);
  const files = only ? all.filter((f) => only.includes(f.replace(/\.sql$/, ''))) : all;
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migration (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set(
      (await client.query<{ version: number }>('SELECT version FROM schema_migration')).rows.map((r) => r.version),
    );
    for (const file of files) {
      const version = Number(file.slice(0, 3));
      if (done.has(version)) continue;
      const sql = await readFile(MIGRATIONS_DIR + file, 'utf8');
      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query('INSERT INTO schema_migration (version, name) VALUES ($1, $2)', [
          version,
          file.replace(/\.sql$/, ''),
        ]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${file} failed: ${(err as Error).message}`);
      }
      applied.push(file.replace(/\.sql$/, ''));
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    client.release();
  }
  return { applied };
}
