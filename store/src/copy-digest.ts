import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/** What a table's COPY text held: rows, bytes and `sha256:` + hex of the bytes. */
export interface CopyDigestResult {
  rows: number;
  bytes: number;
  sha256: string;
}

const NEWLINE = 0x0a;

/**
 * Passes COPY text through unchanged while counting its rows, bytes and SHA-256. In COPY's text format a
 * newline inside a value is written as `\n`, so every raw newline ends a row.
 * @example const digest = new CopyDigest(); await pipeline(copyOut, digest, sink); digest.result()
 */
export class CopyDigest extends Transform {
  private readonly hash = createHash('sha256');
  private rows = 0;
  private bytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.observe(chunk);
    done(null, chunk);
  }

  /** Counts a chunk without passing it on (for a caller that moves the bytes itself). */
  observe(chunk: Buffer): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    for (let i = chunk.indexOf(NEWLINE); i !== -1; i = chunk.indexOf(NEWLINE, i + 1)) this.rows++;
  }

  /** The totals so far (all of them once the stream has ended). */
  result(): CopyDigestResult {
    return { rows: this.rows, bytes: this.bytes, sha256: `sha256:${this.hash.copy().digest('hex')}` };
  }
}
