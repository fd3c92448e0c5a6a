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
