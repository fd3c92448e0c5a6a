import type { Transform } from 'node:stream';
import zlib from 'node:zlib';

/** zstd where Node's zlib has it (22.15 and later), else gzip. */
export type Compression = 'gzip' | 'zstd';

// Not in Node 20's zlib (nor its types): looked up at run time.
const zstd = zlib as unknown as {
  createZstdCompress?: (options?: { params?: Record<number, number> }) => Transform;
  createZstdDecompress?: () => Transform;
  constants: Record<string, number>;
};

/** What new archives are compressed with on this Node. */
export const ARCHIVE_COMPRESSION: Compression = zstd.createZstdCompress ? 'zstd' : 'gzip';

/** The archive key's extension for a compression. */
export const ARCHIVE_EXTENSION: Record<Compression, string> = { gzip: '.tar.gz', zstd: '.tar.zst' };

/** A compressing stream: zstd level 10 (about gzip -9's speed, smaller), or gzip level 9. */
export function compressor(kind: Compression): Transform {
  if (kind === 'zstd' && zstd.createZstdCompress) {
    return zstd.createZstdCompress({ params: { [zstd.constants.ZSTD_c_compressionLevel!]: 10 } });
  }
  return zlib.createGzip({ level: 9 });
}

/** The decompressing stream for an archive of that compression; throws when this Node cannot read it. */
export function decompressor(kind: Compression): Transform {
  if (kind === 'gzip') return zlib.createGunzip();
  if (!zstd.createZstdDecompress)
    throw new Error('the archive is zstd-compressed: restore it with Node 22.15 or later');
  return zstd.createZstdDecompress();
}
