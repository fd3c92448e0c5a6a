import type { InvocationStatsRow } from '@agentrace/schemas';

/** One key's stats over part of the calls (a day, or the calls no kept day covers). */
export interface KeyStats {
  total: number;
  successful: number;
  latency_n: number;
  latency_sum: number | null;
  failure_types: Record<string, number>;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number | null;
}

/**
 * Stats of some calls by key, as PostgreSQL sends them: `stats` per key, and every latency as big-endian
 * float8s, `stats[key].latency_n` of them for each key in the order `keys` lists them (PostgreSQL's
 * order, which a sort here could not be trusted to repeat under every collation).
 */
export interface StatsPartial {
  stats: Record<string, KeyStats>;
  keys: string[];
  latencies: Buffer;
}

interface Merged extends KeyStats {
  latencies: Float64Array[];
}

/**
 * Adds partials up into the API's rows, busiest first (then by key): sums are summed, and percentiles are
 * percentile_cont's, exact, over every latency of the key.
 */
export function mergeStatsPartials(partials: readonly StatsPartial[]): InvocationStatsRow[] {
  const byKey = new Map<string, Merged>();
  for (const partial of partials) {
    for (const [key, s] of Object.entries(partial.stats)) {
      const m = byKey.get(key);
      if (!m) {
        byKey.set(key, { ...s, failure_types: { ...s.failure_types }, latencies: [] });
        continue;
      }
      m.total += s.total;
      m.successful += s.successful;
      m.latency_n += s.latency_n;
      m.latency_sum = addNullable(m.latency_sum, s.latency_sum);
      m.input_tokens += s.input_tokens;
      m.output_tokens += s.output_tokens;
      m.cost_usd = addNullable(m.cost_usd, s.cost_usd);
      for (const [type, n] of Object.entries(s.failure_types))
        m.failure_types[type] = (m.failure_types[type] ?? 0) + n;
    }
    let offset = 0;
    for (const key of partial.keys) {
      const bytes = partial.stats[key]!.latency_n * 8;
      byKey.get(key)!.latencies.push(float64sOf(partial.latencies.subarray(offset, offset + bytes)));
      offset += bytes;
    }
  }
  return [...byKey]
    .map(([key, m]) => {
      const [p50, p95, p99] = percentiles(concat(m.latencies, m.latency_n), [0.5, 0.95, 0.99]);
      return {
        key,
        total_invocations: m.total,
        successful: m.successful,
        failed: m.total - m.successful,
        success_rate: m.successful / m.total,
        avg_duration_ms: m.latency_n > 0 ? m.latency_sum! / m.latency_n : null,
        p50_ms: p50 ?? null,
        p95_ms: p95 ?? null,
        p99_ms: p99 ?? null,
        failure_types: m.failure_types,
        input_tokens: m.input_tokens,
        output_tokens: m.output_tokens,
        cost_usd: m.cost_usd,
      };
    })
    .sort(
      (a, b) => b.total_invocations - a.total_invocations || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
    );
}

const addNullable = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : a + b);

/** PostgreSQL's float8send bytes (big-endian) as numbers. */
function float64sOf(bytes: Buffer): Float64Array {
  const copy = Buffer.from(bytes); // swap64 works in place, and `bytes` may not be 8-byte aligned
  copy.swap64();
  return new Float64Array(copy.buffer, copy.byteOffset, copy.length / 8);
}

function concat(parts: readonly Float64Array[], n: number): Float64Array {
  const all = new Float64Array(n);
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.length;
  }
  return all;
}

/**
 * percentile_cont of each of `qs` (ascending): linear between the two nearest ranks; nulls when there are
 * no values. Reorders `values`: each rank is selected among the values above the previous one, which the
 * selection before left to its right, so the three percentiles cost about two passes, not six.
 */
function percentiles(values: Float64Array, qs: readonly number[]): (number | null)[] {
  const n = values.length;
  let from = 0;
  return qs.map((q) => {
    if (n === 0) return null;
    const rank = q * (n - 1);
    const below = Math.floor(rank);
    const low = select(values, below, from);
    const high = below + 1 < n ? select(values, below + 1, below + 1) : low;
    from = below + 1;
    return low + (rank - below) * (high - low);
  });
}

/**
 * The k-th smallest value, by quickselect in place among `values[from..]` (all of them no smaller than
 * those before `from`): expected O(n), where a sort of a month of one tool's latencies is O(n log n).
 */
function select(values: Float64Array, k: number, from: number): number {
  let lo = Math.min(from, k);
  let hi = values.length - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >>> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i]! < pivot) i++;
      while (values[j]! > pivot) j--;
      if (i <= j) {
        const swap = values[i]!;
        values[i++] = values[j]!;
        values[j--] = swap;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return values[k]!;
}
