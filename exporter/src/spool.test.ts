import {
  appendFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DiagLogLevel, diag } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Spool } from './spool.ts';
import { encodeRecord } from './spool-record.ts';

let dir: string;
const warnings: string[] = [];
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'agentrace-spool-test-'));
  warnings.length = 0;
  diag.setLogger(
    { error: () => {}, warn: (m) => warnings.push(m), info: () => {}, debug: () => {}, verbose: () => {} },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
});
afterEach(() => {
  diag.disable();
  rmSync(dir, { recursive: true, force: true });
});

/** A payload that says which append it was. */
const payload = (n: number) => Buffer.from(`request-${String(n).padStart(4, '0')}`.padEnd(100, '.'));
const RECORD_BYTES = encodeRecord(payload(0), 1).length;

async function drain(spool: Spool): Promise<string[]> {
  const seen: string[] = [];
  for (let batch = await spool.oldest(); batch; batch = await spool.oldest()) {
    seen.push(...batch.records.map((r) => r.payload.subarray(0, 12).toString()));
    await spool.markSent(batch.segmentId, batch.records);
  }
  return seen;
}

const segmentFiles = () => readdirSync(dir).filter((f) => f.endsWith('.seg'));

describe('Spool', () => {
  it('gives the records back in the order they were appended, and deletes what was replayed', async () => {
    const spool = Spool.open(dir, { maxBytes: 1024 * 1024 });
    for (let n = 1; n <= 5; n++) await spool.append(payload(n), n);
    expect(spool.stats()).toEqual({ pendingSpans: 15, pendingBytes: 5 * RECORD_BYTES, droppedSpans: 0 });
    expect(await drain(spool)).toEqual([1, 2, 3, 4, 5].map((n) => `request-000${n}`));
    expect(spool.stats()).toEqual({ pendingSpans: 0, pendingBytes: 0, droppedSpans: 0 });
    expect(segmentFiles()).toEqual([]);
  });

  it('keeps its disk use under the bound by dropping the oldest records, counted and warned about', async () => {
    const maxBytes = 8 * RECORD_BYTES;
    const spool = Spool.open(dir, { maxBytes });
    for (let n = 1; n <= 20; n++) {
      await spool.append(payload(n), 3);
      const onDisk = segmentFiles().reduce((sum, f) => sum + statSync(path.join(dir, f)).size, 0);
      expect(onDisk).toBeLessThanOrEqual(maxBytes);
      expect(spool.stats().pendingBytes).toBe(onDisk);
    }
    const { pendingSpans, droppedSpans } = spool.stats();
    expect(droppedSpans).toBeGreaterThan(0);
    expect(pendingSpans + droppedSpans).toBe(60);
    const kept = await drain(spool);
    expect(kept).toHaveLength(pendingSpans / 3);
    // The newest survive, in order.
    expect(kept).toEqual(
      Array.from(
        { length: kept.length },
        (_, i) => `request-${String(21 - kept.length + i).padStart(4, '0')}`,
      ),
    );
    expect(warnings.at(-1)).toMatch(
      new RegExp(`dropped 3 spans, the spool is full.*\\(${droppedSpans} dropped so far\\)`),
    );
  });

  it('drops a batch larger than the whole spool, and counts it', async () => {
    const spool = Spool.open(dir, { maxBytes: RECORD_BYTES - 1 });
    await spool.append(payload(1), 7);
    expect(spool.stats()).toEqual({ pendingSpans: 0, pendingBytes: 0, droppedSpans: 7 });
    expect(warnings).toEqual([expect.stringMatching(/dropped 7 spans, a batch larger than the whole spool/)]);
  });

  it('hands what one process left to the next, which replays it first, and cuts off a torn last record', async () => {
    const first = Spool.open(dir, { maxBytes: 1024 * 1024 });
    await first.append(payload(1), 2);
    await first.append(payload(2), 2);
    await first.close();
    const [file] = segmentFiles();
    appendFileSync(path.join(dir, file!), encodeRecord(payload(3), 2).subarray(0, 20)); // died mid-append
    const second = Spool.open(dir, { maxBytes: 1024 * 1024 });
    expect(statSync(path.join(dir, file!)).size).toBe(2 * RECORD_BYTES);
    expect(second.stats().pendingSpans).toBe(4);
    await second.append(payload(4), 2);
    expect(await drain(second)).toEqual(['request-0001', 'request-0002', 'request-0004']);
  });

  it('remembers what was replayed of a segment, so a later pass resumes after it', async () => {
    const spool = Spool.open(dir, { maxBytes: 1024 * 1024 });
    for (let n = 1; n <= 3; n++) await spool.append(payload(n), 1);
    const batch = (await spool.oldest())!;
    await spool.markSent(batch.segmentId, batch.records.slice(0, 1));
    expect(spool.stats().pendingSpans).toBe(2);
    expect(await drain(spool)).toEqual(['request-0002', 'request-0003']);
  });

  it('refuses a directory that a live process holds, and takes over one whose holder died', () => {
    writeFileSync(path.join(dir, 'spool.lock'), String(process.ppid));
    expect(() => Spool.open(dir, { maxBytes: 1024 })).toThrow(`in use by process ${process.ppid}`);
    writeFileSync(path.join(dir, 'spool.lock'), '2147483646');
    Spool.open(dir, { maxBytes: 1024 });
    expect(readFileSync(path.join(dir, 'spool.lock'), 'utf8')).toBe(String(process.pid));
  });
});
