import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { ArchiveWriter } from './archive-writer.ts';

const table = { name: 'step', columns: ['id', 'payload'], partitioned: false };
/** COPY text of `rows` rows of about 1 KiB each. */
const copyText = (rows: number) =>
  Readable.from(
    Array.from({ length: rows }, (_, i) => Buffer.from(`${i}\t${randomBytes(512).toString('hex')}\n`)),
  );

describe('ArchiveWriter', () => {
  it('cuts a table into entries of at most 4 MiB and ends with the manifest', async () => {
    const writer = new ArchiveWriter('gzip');
    const entries: { name: string; size: number }[] = [];
    const extract = tar.extract();
    const read = (async () => {
      for await (const entry of extract) {
        let size = 0;
        for await (const chunk of entry) size += (chunk as Buffer).length;
        entries.push({ name: entry.header.name, size });
      }
    })();
    const piped = pipeline(writer.output, createGunzip(), extract);
    const written = await writer.addTable(table, copyText(9000));
    await writer.finish({ tables: [written] } as never);
    await Promise.all([piped, read]);
    expect(written).toMatchObject({ name: 'step', rows: 9000, chunks: 3 });
    expect(entries.map((e) => e.name)).toEqual([
      'tables/step/000001.copy',
      'tables/step/000002.copy',
      'tables/step/000003.copy',
      'manifest.json',
    ]);
    expect(entries.slice(0, 3).reduce((sum, e) => sum + e.size, 0)).toBe(written.bytes);
    expect(Math.max(...entries.map((e) => e.size))).toBeLessThanOrEqual(4 * 1024 * 1024 + 1100);
  });

  it('stops a table being written when the archive is destroyed while nobody reads it', async () => {
    const writer = new ArchiveWriter('gzip');
    // A reader that takes nothing: back-pressure holds the writer until it is destroyed.
    const stalled = pipeline(writer.output, new Writable({ highWaterMark: 1, write: () => undefined }));
    const pending = writer.addTable(table, copyText(20_000));
    setTimeout(() => writer.destroy(new Error('upload failed')), 200);
    await expect(pending).rejects.toThrow('upload failed');
    await expect(stalled).rejects.toThrow('upload failed');
  });
});
