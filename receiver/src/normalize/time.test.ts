import { describe, expect, it } from 'vitest';
import { nanosToIso, nanosToIsoByArithmetic } from './time.ts';

describe('nanosToIso', () => {
  it('formats microseconds in UTC', () => {
    expect(nanosToIso(1_700_000_000_123_456_789n)).toBe('2023-11-14T22:13:20.123456Z');
    expect(nanosToIso(0n)).toBe('1970-01-01T00:00:00.000000Z');
  });

  it('gives the text of the general form, across seconds and at the edges of its fast path', () => {
    const base = 1_764_000_000_000_000_000n;
    const instants = [
      ...Array.from({ length: 2000 }, (_, i) => base + BigInt(i) * 123_456_789n),
      // The same second twice (its cached date), then another, then back.
      base + 1n,
      base + 999_999_999n,
      base + 1_000_000_000n,
      base + 1n,
      1n,
      999n,
      1000n,
      999_999_999n,
      1_000_000_000n,
      18_446_744_073_709_551_615n, // the largest fixed64
      253_402_300_799_999_999_999n, // the last instant of year 9999
      253_402_300_800_000_000_000n,
      -1n,
      -1_500_000_001n,
    ];
    for (const ns of instants) expect(nanosToIso(ns), String(ns)).toBe(nanosToIsoByArithmetic(ns));
  });
});
