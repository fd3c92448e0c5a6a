import { parentPort, workerData } from 'node:worker_threads';
import type { StepRecord } from '@agentrace/store';
import { decodeJson } from '../otlp/decode-json.ts';
import { decodeProtobuf } from '../otlp/decode-protobuf.ts';
import { UndecodableError } from '../otlp/decoded.ts';
import { Pricing } from '../pricing/pricing.ts';
import type { NormalizeJob, NormalizeReply, NormalizeWorkerSetup } from './normalize-messages.ts';
import { RECORDS_PER_MESSAGE } from './normalize-messages.ts';
import { normalizeRequest } from './normalize-request.ts';

/*
 * A normalize worker (see NormalizerPool): decodes an OTLP body and normalizes its spans off the main
 * thread, then posts the records back a slice at a time.
 */
const port = parentPort!;
const setup = workerData as NormalizeWorkerSetup;
const pricing = Pricing.load(setup.pricingFile);

port.on('message', (job: NormalizeJob) => {
  const reply = (message: NormalizeReply, transfer: ArrayBuffer[] = []) =>
    port.postMessage(message, transfer);
  try {
    const body = Buffer.from(job.body.buffer, job.body.byteOffset, job.body.byteLength);
    const request = job.encoding === 'protobuf' ? decodeProtobuf(body) : decodeJson(body.toString('utf8'));
    const ctx = { tenantId: job.tenantId, projectId: job.projectId, pricing, redaction: setup.redaction };
    const { records, rejected, reasons } = normalizeRequest(ctx, request);
    for (let start = 0; start < records.length; start += RECORDS_PER_MESSAGE) {
      const slice = records.slice(start, start + RECORDS_PER_MESSAGE);
      reply({ jobId: job.jobId, kind: 'records', records: slice }, [packIds(slice)]);
    }
    reply({ jobId: job.jobId, kind: 'done', rejected, reasons });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    reply({ jobId: job.jobId, kind: err instanceof UndecodableError ? 'undecodable' : 'failed', message });
  }
});
port.postMessage({ jobId: 0, kind: 'ready' } satisfies NormalizeReply);

/**
 * Moves the records' ids into one fresh buffer and points them at it, returning that buffer to transfer.
 * Decoded ids are views of the request body; posted as they are, each message would copy the whole body.
 */
function packIds(records: StepRecord[]): ArrayBuffer {
  const ID_BYTES = 16 + 8 + 8;
  const packed = Buffer.allocUnsafeSlow(records.length * ID_BYTES);
  let at = 0;
  const move = (id: Buffer | null): Buffer | null => {
    if (id === null) return null;
    const copy = packed.subarray(at, at + id.length);
    id.copy(copy);
    at += id.length;
    return copy;
  };
  for (const r of records) {
    r.traceId = move(r.traceId);
    r.spanId = move(r.spanId);
    r.parentSpanId = move(r.parentSpanId);
  }
  return packed.buffer as ArrayBuffer;
}
