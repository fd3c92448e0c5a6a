import { parentPort, workerData } from 'node:worker_threads';
import { ByteArena, renderStep } from '@agentrace/store';
import { decodeJson } from '../otlp/decode-json.ts';
import { decodeProtobuf } from '../otlp/decode-protobuf.ts';
import { UndecodableError } from '../otlp/decoded.ts';
import { Pricing } from '../pricing/pricing.ts';
import type { NormalizeJob, NormalizeReply, NormalizeWorkerSetup } from './normalize-messages.ts';
import { RECORDS_PER_MESSAGE } from './normalize-messages.ts';
import { normalizeRequest } from './normalize-request.ts';

/*
 * A normalize worker (see NormalizerPool): decodes an OTLP body and normalizes its spans off the main
 * thread, then posts them back a slice at a time, rendered as the writer's rows.
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
    // Rendered here, so the main thread only adds what its writer settles under the run locks.
    const arena = new ByteArena();
    for (let start = 0; start < records.length; start += RECORDS_PER_MESSAGE) {
      const steps = records.slice(start, start + RECORDS_PER_MESSAGE).map((r) => renderStep(r, arena));
      reply({ jobId: job.jobId, kind: 'records', records: steps }, arena.take());
    }
    reply({ jobId: job.jobId, kind: 'done', rejected, reasons });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    reply({ jobId: job.jobId, kind: err instanceof UndecodableError ? 'undecodable' : 'failed', message });
  }
});
port.postMessage({ jobId: 0, kind: 'ready' } satisfies NormalizeReply);
