import { describe, expect, it } from 'vitest';
import { type KeyStats, mergeStatsPartials, type StatsPartial } from './stats-partials.ts';

/** A partial of one key, with latencies as PostgreSQL's float8send writes them (big-endian). */
function partial(key: string, latencies: number[], stats: Partial<KeyStats> = {}): StatsPartial {
  const bytes = Buffer.alloc(latencies.length * 8);
  latencies.forEach((v, i) => {
    bytes.writeDoubleBE(v, i * 8);
  });
  return {
    stats: {
      [key]: {
        total: latencies.length,
        successful: latencies.length,
        latency_n: latencies.length,
        latency_sum: latencies.length ? latencies.reduce((a, b) => a + b, 0) : null,
        failure_types: {},
        input_tokens: 0,
        output_tokens: 0,
        cost_usd: null,
        ...stats,
      },
    },
    keys: [key],
    latencies: bytes,
  };
}

/** percentile_cont, by sorting. */
function reference(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = q * (sorted.length - 1);
  const below = Math.floor(rank);
  const high = sorted[Math.min(below + 1, sorted.length - 1)]!;
  return sorted[below]! + (rank - below) * (high - sorted[below]!);
}

describe('mergeStatsPartials', () => {
  it('gives percentile_cont over every latency of a key, whatever parts they came in', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 48271) % 2147483647;
      return (seed / 2147483647) * 1000;
    };
    for (const n of [1, 2, 3, 10, 101, 5000]) {
      const values = Array.from({ length: n }, () => Math.round(random()) / 4); // with repeats
      const parts = [values.slice(0, n >> 2), values.slice(n >> 2, n >> 1), values.slice(n >> 1)];
      const [row] = mergeStatsPartials(parts.map((p) => partial('search', p)));
      expect(row!.total_invocations).toBe(n);
      expect(row!.p50_ms).toBeCloseTo(reference(values, 0.5), 9);
      expect(row!.p95_ms).toBeCloseTo(reference(values, 0.95), 9);
      expect(row!.p99_ms).toBeCloseTo(reference(values, 0.99), 9);
      expect(row!.avg_duration_ms).toBeCloseTo(values.reduce((a, b) => a + b, 0) / n, 9);
    }
  });

  it('adds counts, tokens, failure types and costs (null only when no part is priced), busiest first', () => {
    const rows = mergeStatsPartials([
      partial('fetch', [5], { successful: 0, failure_types: { timeout: 1 }, cost_usd: null }),
      partial('search', [1, 2], { successful: 1, failure_types: { error: 1 }, input_tokens: 3 }),
      partial('search', [3], { failure_types: {}, input_tokens: 4, cost_usd: 0.5 }),
      partial('fetch', [], { total: 2, successful: 1, latency_n: 0, failure_types: { timeout: 1 } }),
    ]);
    expect(rows.map((r) => r.key)).toEqual(['fetch', 'search']);
    expect(rows[0]).toMatchObject({
      total_invocations: 3,
      successful: 1,
      failed: 2,
      failure_types: { timeout: 2 },
      cost_usd: null,
      p50_ms: 5,
      avg_duration_ms: 5,
    });
    expect(rows[1]).toMatchObject({
      total_invocations: 3,
      successful: 2,
      failed: 1,
      success_rate: 2 / 3,
      failure_types: { error: 1 },
      input_tokens: 7,
      cost_usd: 0.5,
      p50_ms: 2,
    });
  });

  it('answers null latencies for a key whose calls have none', () => {
    const [row] = mergeStatsPartials([partial('search', [], { total: 4, successful: 4, latency_sum: null })]);
    expect(row).toMatchObject({ avg_duration_ms: null, p50_ms: null, p95_ms: null, p99_ms: null });
  });
});
