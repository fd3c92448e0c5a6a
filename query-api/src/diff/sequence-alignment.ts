/** One column of an alignment: indexes into `a` and `b`, -1 where that side has a gap. */
export type AlignedPair = readonly [a: number, b: number];

// Above this many 32-bit words of saved rows (128 MiB) a level is aligned greedily instead.
const MAX_ROW_WORDS = 32 * 1024 * 1024;

/**
 * Aligns two sequences of integer keys along a longest common subsequence: equal keys pair up, the rest
 * are gaps. Within each run of gaps, removals (a only) come before additions (b only).
 *
 * Common prefix and suffix are paired first; the middle is solved with the bit-parallel LCS of
 * Allison–Dix/Hyyrö, which computes a row of the LCS table 32 cells per machine word (10,000 × 10,000 keys
 * is about 3 million word operations), keeping every row so the alignment can be traced back.
 * @example alignSequences([1, 2, 3], [1, 3, 4]) // [[0, 0], [1, -1], [2, 1], [-1, 2]]
 */
export function alignSequences(a: ArrayLike<number>, b: ArrayLike<number>): AlignedPair[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const pairs: AlignedPair[] = [];
  for (let i = 0; i < start; i++) pairs.push([i, i]);
  const n = endA - start;
  const m = endB - start;
  const wordsPerRow = (n + 31) >>> 5;
  const middle =
    (m + 1) * wordsPerRow <= MAX_ROW_WORDS
      ? bitParallelLcs(a, b, start, n, m)
      : greedyCommon(a, b, start, n, m);
  for (const pair of gapsOrdered(middle)) pairs.push(pair);
  for (let k = 0; k < a.length - endA; k++) pairs.push([endA + k, endB + k]);
  return pairs;
}

/** The LCS alignment of a[off, off+n) and b[off, off+m), as absolute index pairs in forward order. */
function bitParallelLcs(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  off: number,
  n: number,
  m: number,
): AlignedPair[] {
  const words = (n + 31) >>> 5;
  // Match masks: bit i of masks[key] is set where a[off + i] === key.
  const masks = new Map<number, Uint32Array>();
  for (let i = 0; i < n; i++) {
    const key = a[off + i]!;
    const mask = masks.get(key) ?? new Uint32Array(words);
    masks.set(key, mask);
    mask[i >>> 5]! |= 1 << (i & 31);
  }
  // rows[j]: after reading b[..j), bit i is 0 exactly where LCS(a[..i+1], b[..j]) > LCS(a[..i], b[..j]).
  const rows = new Uint32Array((m + 1) * words);
  rows.fill(0xffffffff, 0, words);
  for (let j = 1; j <= m; j++) {
    const prev = (j - 1) * words;
    const row = j * words;
    const mask = masks.get(b[off + j - 1]!);
    if (!mask) {
      rows.copyWithin(row, prev, prev + words);
      continue;
    }
    let carry = 0;
    for (let k = 0; k < words; k++) {
      const v = rows[prev + k]!;
      const u = (v & mask[k]!) >>> 0;
      const sum = v + u + carry;
      carry = sum > 0xffffffff ? 1 : 0;
      rows[row + k] = (sum | (v & ~mask[k]!)) >>> 0;
    }
  }
  const reversed: AlignedPair[] = [];
  let i = n;
  let j = m;
  while (i > 0 && j > 0) {
    if (a[off + i - 1] === b[off + j - 1]) {
      // Equal keys: LCS(i, j) = LCS(i-1, j-1) + 1, so the diagonal is always on an optimal path.
      reversed.push([off + --i, off + --j]);
    } else if ((rows[j * words + ((i - 1) >>> 5)]! >>> ((i - 1) & 31)) & 1) {
      reversed.push([off + --i, -1]);
    } else {
      reversed.push([-1, off + --j]);
    }
  }
  while (i > 0) reversed.push([off + --i, -1]);
  while (j > 0) reversed.push([-1, off + --j]);
  return reversed.reverse();
}

/**
 * A common subsequence (not always the longest) in O((n + m) log m): each key of `a` pairs with the next
 * unused occurrence in `b`. Only for levels too wide to keep the LCS rows in memory.
 */
function greedyCommon(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  off: number,
  n: number,
  m: number,
): AlignedPair[] {
  const positions = new Map<number, number[]>();
  for (let j = m - 1; j >= 0; j--) {
    const key = b[off + j]!;
    const list = positions.get(key);
    if (list) list.push(off + j);
    else positions.set(key, [off + j]);
  }
  const pairs: AlignedPair[] = [];
  let nextB = off;
  for (let i = off; i < off + n; i++) {
    const list = positions.get(a[i]!);
    while (list && list.length > 0 && list[list.length - 1]! < nextB) list.pop();
    const j = list?.pop();
    if (j === undefined) {
      pairs.push([i, -1]);
      continue;
    }
    while (nextB < j) pairs.push([-1, nextB++]);
    pairs.push([i, j]);
    nextB = j + 1;
  }
  while (nextB < off + m) pairs.push([-1, nextB++]);
  return pairs;
}

/** Reorders each run of gaps so that its removals come before its additions. */
function gapsOrdered(pairs: AlignedPair[]): AlignedPair[] {
  const out: AlignedPair[] = [];
  const added: AlignedPair[] = [];
  for (const pair of pairs) {
    if (pair[0] === -1) added.push(pair);
    else if (pair[1] === -1) out.push(pair);
    else {
      for (const gap of added) out.push(gap);
      out.push(pair);
      added.length = 0;
    }
  }
  for (const gap of added) out.push(gap);
  return out;
}
