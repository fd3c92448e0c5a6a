import { describe, expect, it } from 'vitest';
import { TimelineCache } from './timeline-cache.ts';

describe('TimelineCache', () => {
  it('answers only for the version it was given', () => {
    const cache = new TimelineCache(1000);
    cache.set('t', 'r', 'v1', '{"a":1}');
    expect(cache.get('t', 'r', 'v1')).toBe('{"a":1}');
    expect(cache.get('t', 'r', 'v2')).toBeUndefined();
    expect(cache.get('other-tenant', 'r', 'v1')).toBeUndefined();
  });

  it('replaces an older version of a run instead of holding both', () => {
    const cache = new TimelineCache(1000);
    cache.set('t', 'r', 'v1', 'x'.repeat(100));
    cache.set('t', 'r', 'v2', 'y'.repeat(50));
    expect(cache.size).toBe(50);
    expect(cache.get('t', 'r', 'v2')).toBe('y'.repeat(50));
  });

  it('evicts the least recently read run once over its byte budget', () => {
    const cache = new TimelineCache(300);
    cache.set('t', 'a', 'v', 'a'.repeat(100));
    cache.set('t', 'b', 'v', 'b'.repeat(100));
    cache.set('t', 'c', 'v', 'c'.repeat(100));
    expect(cache.get('t', 'a', 'v')).toBeDefined();
    cache.set('t', 'd', 'v', 'd'.repeat(100));
    expect(cache.get('t', 'b', 'v')).toBeUndefined();
    expect(['a', 'c', 'd'].map((run) => cache.get('t', run, 'v')?.length)).toEqual([100, 100, 100]);
    expect(cache.size).toBe(300);
  });

  it('does not hold a timeline larger than the whole budget, nor anything with a budget of 0', () => {
    const cache = new TimelineCache(10);
    expect(cache.set('t', 'big', 'v', 'z'.repeat(11))).toBe('z'.repeat(11));
    expect(cache.get('t', 'big', 'v')).toBeUndefined();
    const off = new TimelineCache(0);
    off.set('t', 'r', 'v', '{}');
    expect(off.get('t', 'r', 'v')).toBeUndefined();
  });
});
