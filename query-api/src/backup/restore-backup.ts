import { once } from 'node:events';
import { pipeline } from 'node:stream';
import { BackupManifest, canonicalJson, type ManifestTable } from '@agentrace/schemas';
import {
  assertEmptyDatabase,
  CopyDigest,
  type CopyDigestResult,
  knownMigrations,
  migrate,
  type Pool,
  RestoreLoad,
  RestoreRefused,
} from '@agentrace/store';
import tar from 'tar-stream';
import { MANIFEST_ENTRY } from './archive-writer.ts';
import type { BackupBucket } from './backup-bucket.ts';
import { decompressor } from './compression.ts';

/** What a restore loaded, table by table, all verified against the manifest. */
export interface RestoreReport {
  backup_id: string;
  s3_key: string;
  schema_version: number;
  snapshot_at: string;
  archive_bytes: number;
  tables: { name: string; rows: number; bytes: number }[];
  sequences: number;
  duration_ms: number;
}

/** A restore stopped because the archive does not match its manifest (corrupt, truncated, tampered). */
export class ArchiveMismatch extends Error {}

const CHUNK_ENTRY = /^tables\/([a-z_][a-z0-9_]*)\/\d{6}\.copy$/;

/**
 * Restores a backup (its id, or its archive's key) from the bucket into the EMPTY database of `pool`:
 * migrates it to exactly the archive's migrations, then in one transaction COPYs each table in, checks every
 * table's row count and SHA-256 (as read from the archive, and the rows the server says it loaded) and the
 * archive's own checksum against the manifest, sets the sequences, and commits. Any mismatch rolls the data
 * back (ArchiveMismatch); a database that is not empty is refused before anything is written (RestoreRefused).
 * @example const report = await restoreBackup(bucket, 'a1b2…', pool);
 */
export async function restoreBackup(bucket: BackupBucket, ref: string, pool: Pool): Promise<RestoreReport> {
  const started = performance.now();
  const key = await bucket.resolve(ref);
  const manifest = await bucket.getManifest(key);
  const known = await knownMigrations();
  const unknown = manifest.migrations.filter((m) => !known.includes(m));
  if (unknown.length > 0) {
    throw new RestoreRefused(
      `the archive was made with migrations this agentrace does not have (${unknown.join(', ')}): restore with a newer agentrace`,
    );
  }
  await assertEmptyDatabase(pool, manifest.migrations);
  await migrate(pool, { only: manifest.migrations });
  const client = await pool.connect();
  try {
    const load = await RestoreLoad.begin(client);
    try {
      const archiveDigest = await loadArchive(bucket, key, manifest, load);
      checkArchive(manifest, archiveDigest);
      await load.setSequences(manifest.sequences);
      await load.commit();
    } catch (err) {
      await load.rollback();
      throw err;
    }
  } finally {
    client.release();
  }
  return {
    backup_id: manifest.backup_id,
    s3_key: key,
    schema_version: manifest.schema_version,
    snapshot_at: manifest.snapshot_at,
    archive_bytes: manifest.archive?.bytes ?? 0,
    tables: manifest.tables.map((t) => ({ name: t.name, rows: t.rows, bytes: t.bytes })),
    sequences: manifest.sequences.length,
    duration_ms: Math.round(performance.now() - started),
  };
}

/**
 * Streams the archive into the tables: each table's chunks into one COPY, digested on the way. Answers
 * the archive's own digest; checks each table, and the manifest inside the archive, against `manifest`.
 */
async function loadArchive(
  bucket: BackupBucket,
  key: string,
  manifest: BackupManifest,
  load: RestoreLoad,
): Promise<CopyDigestResult> {
  const expected = new Map(manifest.tables.map((t) => [t.name, t]));
  const missing = load.tableNames().filter((name) => !expected.has(name));
  if (missing.length > 0)
    throw new ArchiveMismatch(`the manifest lacks tables of the schema: ${missing.join(', ')}`);
  const archiveDigest = new CopyDigest();
  const extract = tar.extract();
  const body = await bucket.open(key);
  const piped = new Promise<void>((resolve, reject) => {
    pipeline(body, archiveDigest, decompressor(manifest.compression), extract, (err) => {
      if (!err) return resolve();
      extract.destroy(err);
      reject(err);
    });
  });
  piped.catch(() => undefined);

  const loaded = new Map<string, CopyDigestResult>();
  let current: { table: ManifestTable; digest: CopyDigest; copy: ReturnType<RestoreLoad['copyIn']> } | null =
    null;
  const finishTable = async () => {
    if (!current) return;
    current.copy.end();
    await once(current.copy, 'finish');
    const read = current.digest.result();
    // What the server counted as it loaded the table: a row COPY could not read as one would differ.
    if (current.copy.rowCount !== read.rows) {
      throw new ArchiveMismatch(
        `table ${current.table.name}: ${read.rows} rows in the archive, ${current.copy.rowCount} loaded`,
      );
    }
    loaded.set(current.table.name, read);
    current = null;
  };
  let inner: unknown = null;
  try {
    for await (const entry of extract) {
      const name = entry.header.name;
      const table = CHUNK_ENTRY.exec(name)?.[1];
      if (table) {
        if (current?.table.name !== table) {
          await finishTable();
          const spec = expected.get(table);
          if (!spec || loaded.has(table)) throw new ArchiveMismatch(`unexpected archive entry ${name}`);
          current = {
            table: spec,
            digest: new CopyDigest(),
            copy: load.copyIn(load.table(spec.name, spec.columns)),
          };
        }
        for await (const chunk of entry) {
          current.digest.observe(chunk as Buffer);
          if (!current.copy.write(chunk)) await once(current.copy, 'drain');
        }
      } else if (name === MANIFEST_ENTRY) {
        await finishTable();
        const parts: Buffer[] = [];
        for await (const chunk of entry) parts.push(chunk as Buffer);
        const text = Buffer.concat(parts).toString('utf8');
        const parsed = BackupManifest.safeParse(JSON.parse(text));
        if (!parsed.success)
          throw new ArchiveMismatch(`the archive's ${MANIFEST_ENTRY} is not a backup manifest`);
        inner = parsed.data;
      } else {
        throw new ArchiveMismatch(`unexpected archive entry ${name}`);
      }
    }
  } catch (err) {
    body.destroy();
    // A COPY in progress holds the connection: fail it (CopyFail), so the rollback can run.
    if (current) {
      current.copy.destroy(err as Error);
      await once(current.copy, 'close').catch(() => undefined);
    }
    throw err;
  }
  await finishTable();
  // The archive's digest is whole once the whole body went through.
  await piped;
  if (inner === null) throw new ArchiveMismatch('the archive has no manifest.json: it is truncated');
  const { archive: _archive, ...outer } = manifest;
  if (canonicalJson(inner) !== canonicalJson(outer)) {
    throw new ArchiveMismatch('the manifest inside the archive differs from the one beside it');
  }
  for (const t of manifest.tables) {
    // An empty table has no chunk entries, and so no COPY.
    const got = loaded.get(t.name) ?? new CopyDigest().result();
    expectSame(`table ${t.name} in the archive`, t, got);
  }
  return archiveDigest.result();
}

function checkArchive(manifest: BackupManifest, digest: CopyDigestResult): void {
  if (!manifest.archive) return;
  if (manifest.archive.bytes !== digest.bytes || manifest.archive.sha256 !== digest.sha256) {
    throw new ArchiveMismatch(
      `the archive is ${digest.bytes} bytes with ${digest.sha256}; its manifest says ${manifest.archive.bytes} bytes with ${manifest.archive.sha256}`,
    );
  }
}

function expectSame(what: string, want: ManifestTable, got: CopyDigestResult): void {
  if (want.rows !== got.rows || want.bytes !== got.bytes || want.sha256 !== got.sha256) {
    throw new ArchiveMismatch(
      `${what}: ${got.rows} rows, ${got.bytes} bytes, ${got.sha256}; the manifest says ${want.rows} rows, ${want.bytes} bytes, ${want.sha256}`,
    );
  }
}
