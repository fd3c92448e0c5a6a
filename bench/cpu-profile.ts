import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The parts of a V8 `.cpuprofile` (written by `node --cpu-prof`) that a summary needs. */
interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** Sampled time less `(idle)`: the shares below are of this. */
  busyMs: number;
  idleMs: number;
  /** Time by category: the first category whose pattern names a frame, searched from the leaf up. */
  categories: { name: string; ms: number; share: number }[];
  /** Self time by function, largest first. */
  self: { name: string; ms: number; share: number }[];
  /** Inclusive (self + callees) time by function, largest first; recursion counted once. */
  inclusive: { name: string; ms: number; share: number }[];
}

const label = (frame: CpuProfile['nodes'][number]['callFrame']) => {
  const file = frame.url ? path.basename(frame.url.replace(/^file:\/\//, '')) : '';
  return `${frame.functionName || '(anonymous)'}${file ? ` ${file}:${frame.lineNumber + 1}` : ''}`;
};

/** Categories of the receiver's work, for `summarizeCpuProfile`; matched against `functionName file:line`. */
export const INGEST_CATEGORIES: [string, RegExp][] = [
  ['garbage collection', /^\(garbage collector\)/],
  ['decode (protobuf)', /^decodeProtobuf /],
  ['normalize (map, redact, canonical JSON, hash, price)', /^normalizeRequest /],
  [
    'ingest writer (build rows, serialize SQL parameters)',
    /^(writeSteps|writeInTransaction|insertSteps|insertInvocations|updateRuns|rollUpUsage|lockRuns|findStoredSpans|insertPlaceholderRuns) /,
  ],
  [
    'PostgreSQL protocol (parse results, write socket)',
    /^(handleDataRow|parse|_write|writev|writeGeneric|Socket\._writeGeneric|_handleDataRow|handleCommandComplete|handleRowDescription|handleReadyForQuery|parseDataRowMessage|emit) .*(pg|pg-protocol|net|stream)/,
  ],
  [
    'HTTP body (read, gunzip)',
    /^(processCallback|zlibOnError|Zlib|onData|read) .*(zlib|raw-body|body-parser|read\.js)/,
  ],
  ['auth (key lookup)', /^authenticate(Bearer|Key) /],
  ['HTTP (express, node:http)', /(express|router|layer\.js|_http_|http_parser|parserOnHeaders)/],
];

/** Self and inclusive time per function of a CPU profile, to say where a process spends its CPU. */
export function summarizeCpuProfile(
  file: string,
  top = 25,
  categories: [string, RegExp][] = INGEST_CATEGORIES,
): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  let totalUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
    totalUs += dt;
  }
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const byCategory = new Map<string, number>();
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const name = label(node.callFrame);
    if (name === '(idle)') {
      idleUs += us;
      continue;
    }
    self.set(name, (self.get(name) ?? 0) + us);
    let category = 'other';
    search: for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = label(byId.get(cur)!.callFrame);
      for (const [c, pattern] of categories) {
        if (pattern.test(frame)) {
          category = c;
          break search;
        }
      }
    }
    byCategory.set(category, (byCategory.get(category) ?? 0) + us);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = label(byId.get(cur)!.callFrame);
      if (seen.has(n)) continue;
      seen.add(n);
      inclusive.set(n, (inclusive.get(n) ?? 0) + us);
    }
  }
  const busyUs = totalUs - idleUs;
  const rank = (m: Map<string, number>, n = top) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, ms: Math.round(us / 1000), share: us / busyUs }));
  return {
    busyMs: Math.round(busyUs / 1000),
    idleMs: Math.round(idleUs / 1000),
    categories: rank(byCategory, Number.POSITIVE_INFINITY),
    self: rank(self),
    inclusive: rank(inclusive),
  };
}

/** A summary as text lines. */
export function formatProfileSummary(summary: ProfileSummary): string {
  const pct = (x: number) => `${(x * 100).toFixed(1).padStart(5)}%`;
  const lines = [`  busy ${summary.busyMs} ms (idle ${summary.idleMs} ms left out); by category:`];
  for (const e of summary.categories)
    lines.push(`    ${pct(e.share)} ${String(e.ms).padStart(7)} ms  ${e.name}`);
  lines.push('  self time:');
  for (const e of summary.self) lines.push(`    ${pct(e.share)} ${String(e.ms).padStart(7)} ms  ${e.name}`);
  lines.push('  inclusive time:');
  for (const e of summary.inclusive)
    lines.push(`    ${pct(e.share)} ${String(e.ms).padStart(7)} ms  ${e.name}`);
  return lines.join('\n');
}

// `tsx bench/cpu-profile.ts FILE.cpuprofile [TOP]` prints a summary of a profile taken by hand.
if (process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: tsx bench/cpu-profile.ts FILE.cpuprofile [TOP]\n');
    process.exit(2);
  }
  process.stdout.write(`${formatProfileSummary(summarizeCpuProfile(file, Number(process.argv[3] ?? 30)))}\n`);
}
