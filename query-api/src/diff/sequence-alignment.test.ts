import { describe, expect, it } from 'vitest';
import { type AlignedPair, alignSequences } from './sequence-alignment.ts';

/** The LCS length by the textbook O(n·m) table, to check the bit-parallel one against. */
function lcsLength(a: number[], b: number[]): number {
  let prev = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    const row = [0];
    for (let j = 1; j <= b.length; j++)
      row[j] = a[i - 1] === b[j - 1] ? prev[j - 1]! + 1 : Math.max(prev[j]!, row[j - 1]!);
    prev = row;
  }
  return prev[b.length]!;
}

/** Checks that `pairs` is an alignment: every index once, in order, and paired keys equal. */
function expectValidAlignment(a: number[], b: number[], pairs: AlignedPair[]) {
  expect(pairs.filter(([i]) => i !== -1).map(([i]) => i)).toEqual(a.map((_, i) => i));
  expect(pairs.filter(([, j]) => j !== -1).map(([, j]) => j)).toEqual(b.map((_, j) => j));
  for (const [i, j] of pairs) if (i !== -1 && j !== -1) expect(a[i]).toBe(b[j]);
}

// A small deterministic generator, so failures reproduce.
function random(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

describe('alignSequences', () => {
  it.each<[string, number[], number[], AlignedPair[]]>([
    ['two empty sequences', [], [], []],
    [
      'identical sequences',
      [1, 2, 3],
      [1, 2, 3],
      [
        [0, 0],
        [1, 1],
        [2, 2],
      ],
    ],
    [
      'an insertion',
      [1, 3],
      [1, 2, 3],
      [
        [0, 0],
        [-1, 1],
        [1, 2],
      ],
    ],
    [
      'a deletion',
      [1, 2, 3],
      [1, 3],
      [
        [0, 0],
        [1, -1],
        [2, 1],
      ],
    ],
    [
      'a replacement, removal first',
      [1, 2, 3],
      [1, 4, 3],
      [
        [0, 0],
        [1, -1],
        [-1, 1],
        [2, 2],
      ],
    ],
    [
      'everything different',
      [1, 2],
      [3, 4],
      [
        [0, -1],
        [1, -1],
        [-1, 0],
        [-1, 1],
      ],
    ],
    [
      'only additions',
      [],
      [5, 5],
      [
        [-1, 0],
        [-1, 1],
      ],
    ],
    [
      'only removals',
      [5, 5],
      [],
      [
        [0, -1],
        [1, -1],
      ],
    ],
    [
      'a retried step',
      [1, 2, 3, 4],
      [1, 2, 2, 3, 4],
      [
        [0, 0],
        [1, 1],
        [-1, 2],
        [2, 3],
        [3, 4],
      ],
    ],
    [
      'a swap inside a common prefix and suffix',
      [7, 1, 2, 9],
      [7, 2, 1, 9],
      [
        [0, 0],
        [-1, 1],
        [1, 2],
        [2, -1],
        [3, 3],
      ],
    ],
  ])('aligns %s', (_, a, b, expected) => {
    expect(alignSequences(a, b)).toEqual(expected);
  });

  it.each([
    [40, 40, 3],
    [70, 33, 4],
    [129, 200, 2],
    [300, 310, 12],
    [64, 64, 1],
  ])(
    'finds a longest common subsequence of random sequences of %i and %i keys over %i letters',
    (n, m, letters) => {
      const next = random(n * 1000 + m + letters);
      for (let round = 0; round < 20; round++) {
        const a = Array.from({ length: n }, () => Math.floor(next() * letters));
        const b = Array.from({ length: m }, () => Math.floor(next() * letters));
        const pairs = alignSequences(a, b);
        expectValidAlignment(a, b, pairs);
        expect(pairs.filter(([i, j]) => i !== -1 && j !== -1)).toHaveLength(lcsLength(a, b));
      }
    },
  );

  it('aligns two 10,000-key sequences that differ throughout in well under a second', () => {
    const next = random(42);
    const a = Array.from({ length: 10_000 }, () => Math.floor(next() * 8));
    const b = Array.from({ length: 10_000 }, () => Math.floor(next() * 8));
    const pairs = alignSequences(a, b);
    expectValidAlignment(a, b, pairs);
  });
});
