import { describe, expect, it } from 'vitest';
import { TimelineCache } from './timeline-cache.ts';

describe('TimelineCache', () => {
  it('answers only for the version it was given', () => {
    const cache = new TimelineCache(1000);
    cache.set('t', 'r', 'v1', Buffer.from('{"a":1}'));
    expect(cache.get('t', 'r', 'v1')?.toString()).toBe('{"a":1}');
    expect(cache.get('t', 'r', 'v2')).toBeUndefined();
    expect(cache.get('other-tenant', 'r', 'v1')).toBeUndefined();
  });

  it('replaces an older version of a run instead of holding both', () => {
    const cache = new TimelineCache(1000);
    cache.set('t', 'r', 'v1', Buffer.from('x'.repeat(100)));
    cache.set('t', 'r', 'v2', Buffer.from('y'.repeat(50)));
    expect(cache.size).toBe(50);
    expect(cache.get('t', 'r', 'v2')?.toString()).toBe('y'.repeat(50));
  });

  it('evicts the least recently read run once over its byte budget', () => {
    const cache = new TimelineCache(300);
    cache.set('t', 'a', 'v', Buffer.from('a'.repeat(100)));
    cache.set('t', 'b', 'v', Buffer.from('b'.repeat(100)));
    cache.set('t', 'c', 'v', Buffer.from('c'.repeat(100)));
    expect(cache.get('t', 'a', 'v')).toBeDefined();
    cache.set('t', 'd', 'v', Buffer.from('d'.repeat(100)));
    expect(cache.get('t', 'b', 'v')).toBeUndefined();
    expect(['a', 'c', 'd'].map((run) => cache.get('t', run, 'v')?.length)).toEqual([100, 100, 100]);
    expect(cache.size).toBe(300);
  });

  it('does not hold a timeline larger than the whole budget, nor anything with a budget of 0', () => {
    const cache = new TimelineCache(10);
    expect(cache.set('t', 'big', 'v', Buffer.from('z'.repeat(11))).toString()).toBe('z'.repeat(11));
    expect(cache.get('t', 'big', 'v')).toBeUndefined();
    const off = new TimelineCache(0);
    off.set('t', 'r', 'v', Buffer.from('{}'));
    expect(off.get('t', 'r', 'v')).toBeUndefined();
  });

  it('counts its budget in the UTF-8 bytes it sends', () => {
    const cache = new TimelineCache(1000);
    cache.set('t', 'r', 'v', Buffer.from('{"name":"café ☕"}'));
    expect(cache.size).toBe(20);
    expect(cache.get('t', 'r', 'v')?.toString()).toBe('{"name":"café ☕"}');
  });
});
