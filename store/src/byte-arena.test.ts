import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ByteArena } from './byte-arena.ts';

describe('ByteArena', () => {
  it('hands out UTF-8 views that survive new slabs, long texts and take()', () => {
    const arena = new ByteArena(16);
    const texts = ['short', 'ünïcödé 日本 🚀', 'x'.repeat(100), '', 'tab\there', '🚀'.repeat(9)];
    const views = texts.map((t) => arena.add(t));
    const id = arena.addBytes(Uint8Array.from([0, 1, 2, 255]));
    const slabs = arena.take();
    expect(views.map((v) => v.toString('utf8'))).toEqual(texts);
    expect([...id]).toEqual([0, 1, 2, 255]);
    // Every view lies in one of the slabs taken, and nothing is left behind for the next message.
    const all = [...views, id].filter((v) => v.length > 0);
    expect(all.every((v) => slabs.includes(v.buffer as ArrayBuffer))).toBe(true);
    expect(arena.take()).toEqual([]);
    expect(arena.add('after').toString()).toBe('after');
  });

  it('starts with a small slab and doubles up to its maximum: a few rows keep kilobytes alive, not a megabyte', () => {
    const arena = new ByteArena();
    const row = arena.add('a small request: one row');
    const [slab, ...rest] = arena.take();
    expect(rest).toEqual([]);
    expect(slab!.byteLength).toBe(4 * 1024);
    expect(row.buffer).toBe(slab);
    // A large message: slabs of 4, 8, ... KiB, then 1 MiB each, so few of them and none mostly empty.
    const large = new ByteArena();
    const text = 'x'.repeat(1000);
    const rows = Array.from({ length: 3000 }, () => large.add(text));
    const slabs = large.take().map((b) => b.byteLength);
    expect(slabs.slice(0, 9)).toEqual([4, 8, 16, 32, 64, 128, 256, 512, 1024].map((k) => k * 1024));
    expect(slabs.slice(9).every((bytes) => bytes === 1 << 20)).toBe(true);
    expect(slabs.reduce((a, b) => a + b, 0)).toBeLessThan(2 * 3000 * (1000 * 3));
    expect(rows.every((r) => r.toString() === text)).toBe(true);
    // Past the maximum only a row larger than it gets a slab of its own size.
    const huge = 'y'.repeat(500_000);
    expect(large.add(huge).toString()).toBe(huge);
    expect(large.take().map((b) => b.byteLength)).toEqual([1_500_000]);
  });

  it('gives slabs that can be transferred: the views arrive on the other side intact', () => {
    const arena = new ByteArena();
    const rows = ['row one', 'row twö'].map((t) => arena.add(t));
    const { port1, port2 } = new MessageChannel();
    const received = new Promise<Uint8Array[]>((resolve) => port2.once('message', resolve));
    port1.postMessage(rows, arena.take());
    // Transferred, not copied: the sender's slab is gone.
    expect(rows[0]!.byteLength).toBe(0);
    return received.then((views) => {
      expect(views.map((v) => Buffer.from(v).toString())).toEqual(['row one', 'row twö']);
      port1.close();
      port2.close();
    });
  });
});
