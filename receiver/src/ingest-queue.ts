import type { StepOutcome, WritableStep } from '@agentrace/store';

export interface IngestQueueOptions {
  /** Spans waiting or being written, at most; beyond it `submit` refuses (the receiver answers 503). */
  maxQueuedSpans: number;
  /** Spans per transaction, at most (a request is never split). */
  maxBatchSpans: number;
  /** Transactions in flight at once. */
  writers: number;
}

export interface QueueObserver {
  batchWritten?(spans: number, seconds: number): void;
  /** `spans` queued or being written, of which `waiting` are not yet in a transaction. */
  depthChanged?(spans: number, waiting: number): void;
}

/** The queue is full: the caller should be told to retry later. */
export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
}

interface Pending {
  records: WritableStep[];
  resolve: (outcomes: StepOutcome[]) => void;
  reject: (err: unknown) => void;
}

type WriteFn = (records: WritableStep[]) => Promise<StepOutcome[]>;

/**
 * A bounded queue in front of the batch writer. Requests that arrive while writers are busy are merged
 * into one transaction (fewer commits under load, no added delay when idle). A request's promise settles
 * only when the transaction holding its spans has committed, so the ingest path acknowledges durably.
 */
export class IngestQueue {
  private readonly pending: Pending[] = [];
  private queued = 0;
  private waiting = 0;
  private active = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly write: WriteFn,
    private readonly options: IngestQueueOptions,
    private readonly observer: QueueObserver = {},
  ) {}

  /** Spans waiting or being written. */
  get depth(): number {
    return this.queued;
  }

  /** Throws QueueFullError when the queue holds as many spans as it may: work for it would be wasted. */
  refuseWhenFull(): void {
    if (this.queued >= this.options.maxQueuedSpans) {
      throw new QueueFullError(`ingest queue is full (${this.queued} spans queued)`);
    }
  }

  /** Queues the records; resolves with their outcomes once committed. Throws QueueFullError when full. */
  submit(records: WritableStep[]): Promise<StepOutcome[]> {
    if (records.length === 0) return Promise.resolve([]);
    if (this.queued > 0 && this.queued + records.length > this.options.maxQueuedSpans) {
      throw new QueueFullError(`ingest queue is full (${this.queued} spans queued)`);
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ records, resolve, reject });
      this.waiting += records.length;
      this.setDepth(this.queued + records.length);
      this.pump();
    });
  }

  /** Resolves once everything submitted so far is written. */
  drain(): Promise<void> {
    if (this.queued === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.active < this.options.writers && this.pending.length > 0) {
      const batch: Pending[] = [];
      let spans = 0;
      while (this.pending.length > 0) {
        const next = this.pending[0]!;
        if (batch.length > 0 && spans + next.records.length > this.options.maxBatchSpans) break;
        batch.push(this.pending.shift()!);
        spans += next.records.length;
      }
      this.active++;
      this.waiting -= spans;
      this.setDepth(this.queued);
      void this.run(batch, spans);
    }
  }

  private async run(batch: Pending[], spans: number): Promise<void> {
    const started = process.hrtime.bigint();
    try {
      const outcomes = await this.write(batch.flatMap((p) => p.records));
      this.observer.batchWritten?.(spans, Number(process.hrtime.bigint() - started) / 1e9);
      let offset = 0;
      for (const p of batch) {
        p.resolve(outcomes.slice(offset, offset + p.records.length));
        offset += p.records.length;
      }
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      this.active--;
      this.setDepth(this.queued - spans);
      this.pump();
      if (this.queued === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  private setDepth(spans: number): void {
    this.queued = spans;
    this.observer.depthChanged?.(spans, this.waiting);
  }
}
