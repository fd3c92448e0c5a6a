import { describe, expect, it } from 'vitest';
import { TokenBuckets } from './token-bucket.ts';

/** Buckets on a clock the test moves by hand. */
function bucketsAt(rate: number, burst: number, maxKeys?: number) {
  const clock = { t: 1000 };
  return { clock, buckets: new TokenBuckets({ rate, burst }, () => clock.t, maxKeys) };
}

describe('TokenBuckets', () => {
  it('lets a burst through, then refuses with the wait until one token is back', () => {
    const { buckets } = bucketsAt(2, 3);
    expect([1, 2, 3].map(() => buckets.take('k'))).toEqual([
      { ok: true, limit: 3, remaining: 2, resetSeconds: 1, retryAfterSeconds: 0 },
      { ok: true, limit: 3, remaining: 1, resetSeconds: 1, retryAfterSeconds: 0 },
      { ok: true, limit: 3, remaining: 0, resetSeconds: 2, retryAfterSeconds: 0 },
    ]);
    expect(buckets.take('k')).toEqual({
      ok: false,
      limit: 3,
      remaining: 0,
      resetSeconds: 2,
      retryAfterSeconds: 1,
    });
  });

  it('refills at the rate, never above the burst', () => {
    const { clock, buckets } = bucketsAt(4, 5);
    for (let i = 0; i < 5; i++) buckets.take('k');
    clock.t += 0.75;
    expect(buckets.take('k')).toMatchObject({ ok: true, remaining: 2 });
    clock.t += 3600;
    expect(buckets.take('k')).toMatchObject({ ok: true, remaining: 4, resetSeconds: 1 });
  });

  it('keeps one bucket per key', () => {
    const { buckets } = bucketsAt(1, 1);
    expect(buckets.take('a').ok).toBe(true);
    expect(buckets.take('a').ok).toBe(false);
    expect(buckets.take('b').ok).toBe(true);
  });

  it('takes a cost whole or not at all, and says how long until it fits', () => {
    const { clock, buckets } = bucketsAt(100, 200);
    expect(buckets.take('tenant', 150)).toMatchObject({ ok: true, remaining: 50 });
    expect(buckets.take('tenant', 120)).toMatchObject({ ok: false, remaining: 50, retryAfterSeconds: 1 });
    clock.t += 0.75;
    expect(buckets.take('tenant', 120)).toMatchObject({ ok: true, remaining: 5 });
  });

  it('takes a cost above the whole bucket only from a full bucket, which it leaves in debt', () => {
    const { clock, buckets } = bucketsAt(8, 16);
    buckets.take('t', 1);
    expect(buckets.take('t', 50)).toMatchObject({ ok: false, retryAfterSeconds: 1 });
    clock.t += 0.125;
    expect(buckets.take('t', 50)).toMatchObject({ ok: true, remaining: 0, resetSeconds: 7 });
    // 34 tokens of debt: a full bucket is 50/8 s away, the next single token 35/8 s.
    expect(buckets.take('t', 1)).toMatchObject({ ok: false, retryAfterSeconds: 5 });
  });

  it('forgets the least recently used key beyond its size, which then starts full again', () => {
    const { buckets } = bucketsAt(1, 1, 2);
    buckets.take('a');
    buckets.take('b');
    buckets.take('a');
    buckets.take('c');
    expect(buckets.take('a').ok).toBe(false);
    expect(buckets.take('b').ok).toBe(true);
  });

  it.each([
    [0, 10],
    [5, 0],
    [Number.NaN, 10],
  ])('refuses limits rate=%d burst=%d', (rate, burst) => {
    expect(() => new TokenBuckets({ rate, burst })).toThrow(RangeError);
  });
});
