import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import type { BackupManifest, ManifestTable } from '@agentrace/schemas';
import { CopyDigest, type DataTable } from '@agentrace/store';
import tar from 'tar-stream';
import { type Compression, compressor } from './compression.ts';

/** Table data goes into tar entries of at most this size: tar wants an entry's size before its bytes. */
const CHUNK_BYTES = 4 * 1024 * 1024;

/** The entry of the table's n-th chunk: `tables/<table>/000001.copy`, ... */
export const chunkEntryName = (table: string, n: number) =>
  `tables/${table}/${String(n).padStart(6, '0')}.copy`;
export const MANIFEST_ENTRY = 'manifest.json';

/**
 * A backup archive being written: a tar (each table's COPY text in chunks, then `manifest.json`),
 * compressed, readable from `output` as it is made. Memory stays at about one chunk whatever the size,
 * and a slow reader of `output` slows the writer (back-pressure) rather than filling memory.
 * @example const w = new ArchiveWriter('gzip'); upload(w.output); await w.addTable(t, rows); await w.finish(m);
 */
export class ArchiveWriter {
  readonly output: Readable;
  private readonly pack = tar.pack();
  private readonly failed: Promise<never>;
  private fail: (err: Error) => void = () => undefined;

  constructor(compression: Compression) {
    this.failed = new Promise<never>((_resolve, reject) => {
      this.fail = reject;
    });
    this.failed.catch(() => undefined);
    this.output = pipeline(this.pack, compressor(compression), (err) => {
      if (err) this.fail(err);
    });
  }

  /** Writes a table's COPY text (consuming `rows`) and answers what it held. */
  async addTable(table: DataTable, rows: Readable): Promise<ManifestTable> {
    const digest = new CopyDigest();
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let chunks = 0;
    const flush = async () => {
      chunks++;
      await this.entry(chunkEntryName(table.name, chunks), Buffer.concat(pending, pendingBytes));
      pending = [];
      pendingBytes = 0;
    };
    for await (const chunk of rows) {
      digest.observe(chunk as Buffer);
      pending.push(chunk as Buffer);
      pendingBytes += (chunk as Buffer).length;
      if (pendingBytes >= CHUNK_BYTES) await flush();
    }
    if (pendingBytes > 0) await flush();
    return { name: table.name, columns: table.columns, ...digest.result(), chunks };
  }

  /** Writes the manifest as the last entry and ends the archive. */
  async finish(manifest: BackupManifest): Promise<void> {
    await this.entry(MANIFEST_ENTRY, Buffer.from(JSON.stringify(manifest, null, 2)));
    this.pack.finalize();
  }

  /** Stops writing: `output` errors with `err`, and a pending `addTable` rejects. */
  destroy(err: Error): void {
    this.fail(err);
    this.pack.destroy(err);
  }

  // Resolves once the entry's bytes are taken by the reader (tar-stream's back-pressure), or rejects when
  // the archive failed meanwhile (the upload stopped reading, say).
  private entry(name: string, body: Buffer): Promise<void> {
    const written = new Promise<void>((resolve, reject) => {
      const sink = this.pack.entry({ name, size: body.length }, body, (err) =>
        err ? reject(err) : resolve(),
      );
      // A destroyed archive destroys the entry with the error too: the callback has it already.
      sink.on('error', () => undefined);
    });
    return Promise.race([written, this.failed]);
  }
}
