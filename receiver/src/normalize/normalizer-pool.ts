import { Worker } from 'node:worker_threads';
import type { RenderedStep } from '@agentrace/store';
import { QueueFullError } from '../ingest-queue.ts';
import { UndecodableError } from '../otlp/decoded.ts';
import type {
  BodyEncoding,
  NormalizeJob,
  NormalizeReply,
  NormalizeWorkerSetup,
} from './normalize-messages.ts';

export interface NormalizerPoolOptions extends NormalizeWorkerSetup {
  /** Worker threads. */
  threads: number;
  /** Body bytes waiting or being normalized, at most; beyond it `normalize` refuses (the receiver answers 503). */
  maxPendingBytes: number;
}

/** A request's spans as the writer takes them, with the invalid ones counted. */
export interface NormalizedBody {
  records: RenderedStep[];
  rejected: number;
  reasons: string[];
}

interface Job {
  /** The body's size, counted in `pendingBytes` until the job ends. */
  bytes: number;
  result: NormalizedBody;
  resolve: (result: NormalizedBody) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  jobs: Map<number, Job>;
  /** Settles once the worker has loaded (or has failed to). */
  loaded: Promise<void>;
}

const WORKER_URL = new URL('./normalize-worker.mjs', import.meta.url);

/**
 * Decodes and normalizes OTLP bodies on worker threads. Normalizing costs several times what writing does,
 * and on the main thread it capped ingest at one core and held the query API and the live stream up
 * while it ran; here it runs beside them, on as many cores as there are threads. Each job goes to the
 * worker with the fewest in flight; a worker that dies fails its jobs (the client retries) and is replaced.
 */
export class NormalizerPool {
  private readonly slots: Slot[] = [];
  private nextJobId = 1;
  private pendingBytes = 0;
  private closed = false;

  constructor(private readonly options: NormalizerPoolOptions) {
    for (let i = 0; i < options.threads; i++) this.spawn();
  }

  /**
   * Resolves once every worker has loaded: a worker takes about a second to start, which a receiver
   * should spend before it listens rather than on its first request (an exporter's timeout may be shorter).
   */
  async ready(): Promise<void> {
    await Promise.all(this.slots.map((slot) => slot.loaded));
  }

  /**
   * The body's spans as records, in order, with the invalid ones counted. Rejects with UndecodableError when
   * the body is not an OTLP request in `encoding`; throws QueueFullError when too many bytes wait already.
   * @example const { records, rejected } = await pool.normalize({ tenantId, projectId }, body, 'protobuf');
   */
  normalize(
    principal: { tenantId: string; projectId: string },
    body: Uint8Array,
    encoding: BodyEncoding,
  ): Promise<NormalizedBody> {
    if (this.closed) return Promise.reject(new Error('normalizer pool is closed'));
    if (this.pendingBytes > 0 && this.pendingBytes + body.byteLength > this.options.maxPendingBytes) {
      throw new QueueFullError(`ingest is overloaded (${this.pendingBytes} bytes waiting to be normalized)`);
    }
    const slot = this.leastBusy();
    const jobId = this.nextJobId++;
    return new Promise((resolve, reject) => {
      this.pendingBytes += body.byteLength;
      const result: NormalizedBody = { records: [], rejected: 0, reasons: [] };
      slot.jobs.set(jobId, { bytes: body.byteLength, result, resolve, reject });
      const job: NormalizeJob = { jobId, ...principal, encoding, body };
      slot.worker.postMessage(job);
    });
  }

  /** Stops the workers; jobs still in flight fail. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.splice(0).map((slot) => slot.worker.terminate()));
  }

  private leastBusy(): Slot {
    if (this.slots.length < this.options.threads) return this.spawn();
    let best = this.slots[0]!;
    for (const slot of this.slots) if (slot.jobs.size < best.jobs.size) best = slot;
    return best;
  }

  /** A worker, at start or in place of one that died. */
  private spawn(): Slot {
    const { pricingFile, redaction } = this.options;
    const worker = new Worker(WORKER_URL, {
      workerData: { pricingFile, redaction } satisfies NormalizeWorkerSetup,
    });
    let loaded = () => {};
    const slot: Slot = { worker, jobs: new Map(), loaded: new Promise((resolve) => (loaded = resolve)) };
    // An idle worker must not keep the process alive.
    worker.unref();
    worker.on('message', (reply: NormalizeReply) =>
      reply.kind === 'ready' ? loaded() : this.settle(slot, reply),
    );
    const fail = (err: Error) => {
      loaded();
      const index = this.slots.indexOf(slot);
      if (index >= 0) this.slots.splice(index, 1);
      for (const jobId of [...slot.jobs.keys()]) this.end(slot, jobId).reject(err);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`normalize worker exited with code ${code}`)));
    this.slots.push(slot);
    return slot;
  }

  private settle(slot: Slot, reply: Exclude<NormalizeReply, { kind: 'ready' }>): void {
    const job = slot.jobs.get(reply.jobId);
    if (!job) return;
    switch (reply.kind) {
      case 'records':
        for (const record of reply.records) job.result.records.push(asBuffers(record));
        return;
      case 'done':
        job.result.rejected = reply.rejected;
        job.result.reasons = reply.reasons;
        this.end(slot, reply.jobId).resolve(job.result);
        return;
      case 'undecodable':
        this.end(slot, reply.jobId).reject(new UndecodableError(reply.message));
        return;
      case 'failed':
        this.end(slot, reply.jobId).reject(new Error(`normalizing failed: ${reply.message}`));
    }
  }

  /** Takes a job off its worker and its body off the pending bytes; the caller settles it. */
  private end(slot: Slot, jobId: number): Job {
    const job = slot.jobs.get(jobId)!;
    slot.jobs.delete(jobId);
    this.pendingBytes -= job.bytes;
    return job;
  }
}

/** Ids and rows arrive as plain Uint8Arrays (structured clone drops the Buffer class): Buffers again, no copy. */
function asBuffers(step: RenderedStep): RenderedStep {
  const buffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const orNull = (bytes: Uint8Array | null) => (bytes === null ? null : buffer(bytes));
  step.traceId = orNull(step.traceId);
  step.spanId = orNull(step.spanId);
  step.rows.step = buffer(step.rows.step);
  step.rows.invocation = orNull(step.rows.invocation);
  return step;
}
