import type { Writable } from 'node:stream';

const FLUSH_BYTES = 64 * 1024;

/**
 * Text to a stream in chunks of about 64 KiB, waiting for the stream to drain when it is full, so that a
 * slow reader slows the producer down instead of memory growing.
 */
export class ChunkWriter {
  private parts: string[] = [];
  private size = 0;

  constructor(private readonly out: Writable) {}

  async write(text: string): Promise<void> {
    this.parts.push(text);
    this.size += text.length;
    if (this.size >= FLUSH_BYTES) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.size === 0) return;
    const chunk = this.parts.join('');
    this.parts = [];
    this.size = 0;
    if (this.out.destroyed) throw new Error('the reader went away');
    if (!this.out.write(chunk)) await drained(this.out);
  }
}

/** Resolves when `out` drains; rejects when it closes first (a client that went away never drains). */
function drained(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (closed: boolean) => () => {
      out.off('drain', onDrain);
      out.off('close', onClose);
      if (closed) reject(new Error('the reader went away'));
      else resolve();
    };
    const onDrain = settle(false);
    const onClose = settle(true);
    out.once('drain', onDrain);
    out.once('close', onClose);
  });
}
