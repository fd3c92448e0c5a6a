const encoder = new TextEncoder();

/**
 * Bytes appended into a few ArrayBuffers, handed out as Buffer views of them. A normalize worker renders
 * a message's rows here and transfers the slabs with it, so the rows cross to the main thread without a
 * copy (a message of separate Buffers or strings is copied whole on both sides).
 *
 * Slabs start at `firstSlabBytes` and double up to `maxSlabBytes`, so a request of a few spans takes a few
 * kilobytes, which its rows keep alive until their batch commits. Every request used to take a whole
 * megabyte: zero-filled, counted as external memory on both threads (at a hundred one-span requests a
 * second V8's helper threads were busy with full collections), and a backlog of a thousand small
 * requests held a gigabyte.
 * @example const arena = new ByteArena(); const row = arena.add('a\tb'); port.postMessage({ row }, arena.take());
 */
export class ByteArena {
  private slab = Buffer.alloc(0);
  private at = 0;
  private filled: ArrayBuffer[] = [];
  private nextSlabBytes: number;

  constructor(
    private readonly maxSlabBytes = 1 << 20,
    firstSlabBytes = Math.min(4 * 1024, maxSlabBytes),
  ) {
    this.nextSlabBytes = firstSlabBytes;
  }

  /** `text` as UTF-8. */
  add(text: string): Buffer {
    // A UTF-16 code unit takes at most 3 UTF-8 bytes; encodeInto says when it ran out of room.
    if (this.slab.length - this.at < text.length * 3) {
      const { read, written } = encoder.encodeInto(text, this.slab.subarray(this.at));
      if (read === text.length) return this.claim(written);
      this.grow(text.length * 3);
    }
    return this.claim(encoder.encodeInto(text, this.slab.subarray(this.at)).written);
  }

  /** A copy of `bytes`. */
  addBytes(bytes: Uint8Array): Buffer {
    if (this.slab.length - this.at < bytes.length) this.grow(bytes.length);
    this.slab.set(bytes, this.at);
    return this.claim(bytes.length);
  }

  /** The slabs written so far (for a transfer list); the arena starts afresh, and the views stay valid. */
  take(): ArrayBuffer[] {
    if (this.at > 0) this.filled.push(this.slab.buffer as ArrayBuffer);
    const slabs = this.filled;
    this.filled = [];
    this.slab = Buffer.alloc(0);
    this.at = 0;
    return slabs;
  }

  private claim(bytes: number): Buffer {
    const view = this.slab.subarray(this.at, this.at + bytes);
    this.at += bytes;
    return view;
  }

  private grow(atLeast: number): void {
    if (this.at > 0) this.filled.push(this.slab.buffer as ArrayBuffer);
    const bytes = Math.max(this.nextSlabBytes, atLeast);
    // Its own ArrayBuffer (not Node's shared pool), so that it can be transferred.
    this.slab = Buffer.from(new ArrayBuffer(bytes));
    this.nextSlabBytes = Math.min(this.maxSlabBytes, bytes * 2);
    this.at = 0;
  }
}
