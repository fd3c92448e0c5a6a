import { mkdirSync, readdirSync, readFileSync, truncateSync } from 'node:fs';
import { appendFile, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { diag } from '@opentelemetry/api';
import { lockSpoolDir } from './spool-lock.ts';
import { decodeRecords, encodeRecord, type SpoolRecord } from './spool-record.ts';

export interface SpoolLimits {
  /** Bytes on disk at most; beyond, the oldest segments are dropped. */
  maxBytes: number;
}

/** How full the spool is, and what it had to drop. */
export interface SpoolStats {
  pendingSpans: number;
  pendingBytes: number;
  /** Spans dropped because the spool was full (the oldest go first), since this process started. */
  droppedSpans: number;
}

interface Segment {
  id: number;
  file: string;
  bytes: number;
  spans: number;
  /** Records already replayed from the head of the segment. */
  sentRecords: number;
  sentSpans: number;
}

/** The unsent records of the oldest segment, for the replayer. */
export interface SpoolBatch {
  segmentId: number;
  records: SpoolRecord[];
}

const SEGMENT_SUFFIX = '.seg';
const segmentName = (id: number) => `${String(id).padStart(12, '0')}${SEGMENT_SUFFIX}`;

/**
 * A durable, bounded FIFO of OTLP export requests on disk: append-only segment files of length-prefixed
 * records (`spool-record.ts`), replayed oldest first. Segments are about an eighth of the size budget, so
 * when the spool is full the oldest eighth goes at once (counted and warned about). The file being
 * appended to is closed before it is replayed, so a segment is never read while it grows. Progress
 * within a segment is kept in memory only: after a crash the segment is replayed again from its start,
 * which the receiver's dedup by trace and span id makes harmless. Every operation runs in order on one
 * promise chain, off the agent's path.
 */
export class Spool {
  private readonly segments: Segment[] = [];
  private readonly segmentBytes: number;
  private openSegment: Segment | null = null;
  private nextId = 1;
  private droppedSpans = 0;
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly dir: string,
    private readonly limits: SpoolLimits,
    private readonly release: () => void,
  ) {
    this.segmentBytes = Math.max(1, Math.floor(limits.maxBytes / 8));
  }

  /**
   * Takes `dir` for this process (see `lockSpoolDir`) and loads the segments an earlier process left, to
   * replay them first. Synchronous, so a spool that cannot be used is known at start-up; it reads at most
   * `maxBytes`, once.
   */
  static open(dir: string, limits: SpoolLimits): Spool {
    mkdirSync(dir, { recursive: true });
    const spool = new Spool(dir, limits, lockSpoolDir(dir));
    spool.load();
    return spool;
  }

  /** Appends one export request holding `spans` spans. */
  append(payload: Uint8Array, spans: number): Promise<void> {
    return this.serially(async () => {
      const record = encodeRecord(payload, spans);
      if (record.length > this.limits.maxBytes) {
        this.drop(spans, 'a batch larger than the whole spool');
        return;
      }
      while (this.totalBytes() + record.length > this.limits.maxBytes) await this.dropOldestSegment();
      const segment = this.segmentFor(record.length);
      await appendFile(segment.file, record);
      segment.bytes += record.length;
      segment.spans += spans;
    });
  }

  /** The unsent records of the oldest segment, or null when nothing is pending. */
  oldest(): Promise<SpoolBatch | null> {
    return this.serially(async () => {
      while (this.segments.length > 0) {
        const segment = this.segments[0]!;
        if (segment === this.openSegment) this.openSegment = null;
        const { records } = decodeRecords(await readFile(segment.file));
        const unsent = records.slice(segment.sentRecords);
        if (unsent.length > 0) return { segmentId: segment.id, records: unsent };
        await this.remove(segment);
      }
      return null;
    });
  }

  /** Marks `records`, the first unsent ones of a segment, replayed; a fully replayed segment is deleted. */
  markSent(segmentId: number, records: SpoolRecord[]): Promise<void> {
    return this.serially(async () => {
      const segment = this.segments.find((s) => s.id === segmentId);
      if (!segment) return; // dropped for space meanwhile
      segment.sentRecords += records.length;
      segment.sentSpans += records.reduce((sum, r) => sum + r.spans, 0);
      if (segment !== this.openSegment && segment.sentSpans >= segment.spans) await this.remove(segment);
    });
  }

  stats(): SpoolStats {
    return {
      pendingSpans: this.segments.reduce((sum, s) => sum + s.spans - s.sentSpans, 0),
      pendingBytes: this.totalBytes(),
      droppedSpans: this.droppedSpans,
    };
  }

  /** Waits for pending operations and releases the directory; the segments stay for the next process. */
  close(): Promise<void> {
    return this.serially(async () => this.release());
  }

  private serially<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.chain.then(operation);
    this.chain = result.catch(() => undefined);
    return result;
  }

  private load(): void {
    const names = readdirSync(this.dir)
      .filter((n) => n.endsWith(SEGMENT_SUFFIX))
      .sort();
    for (const name of names) {
      const id = Number.parseInt(name, 10);
      const file = path.join(this.dir, name);
      const bytes = readFileSync(file);
      const { records, validBytes } = decodeRecords(bytes);
      // A record torn by a crash mid-append is cut off, so nothing is ever appended behind garbage.
      if (validBytes < bytes.length) truncateSync(file, validBytes);
      const spans = records.reduce((sum, r) => sum + r.spans, 0);
      this.segments.push({ id, file, bytes: validBytes, spans, sentRecords: 0, sentSpans: 0 });
      this.nextId = Math.max(this.nextId, id + 1);
    }
  }

  private segmentFor(recordBytes: number): Segment {
    const open = this.openSegment;
    if (open && (open.bytes === 0 || open.bytes + recordBytes <= this.segmentBytes)) return open;
    const id = this.nextId++;
    const segment: Segment = {
      id,
      file: path.join(this.dir, segmentName(id)),
      bytes: 0,
      spans: 0,
      sentRecords: 0,
      sentSpans: 0,
    };
    this.segments.push(segment);
    this.openSegment = segment;
    return segment;
  }

  private async dropOldestSegment(): Promise<void> {
    const segment = this.segments[0]!;
    await this.remove(segment);
    if (segment === this.openSegment) this.openSegment = null;
    this.drop(segment.spans - segment.sentSpans, 'the spool is full: the oldest are dropped first');
  }

  private drop(spans: number, why: string): void {
    this.droppedSpans += spans;
    diag.warn(`agentrace spool: dropped ${spans} spans, ${why} (${this.droppedSpans} dropped so far)`);
  }

  private async remove(segment: Segment): Promise<void> {
    this.segments.splice(this.segments.indexOf(segment), 1);
    await unlink(segment.file).catch(() => undefined);
  }

  private totalBytes(): number {
    return this.segments.reduce((sum, s) => sum + s.bytes, 0);
  }
}
