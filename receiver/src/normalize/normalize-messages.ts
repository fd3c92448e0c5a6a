import type { RenderedStep } from '@agentrace/store';
import type { RedactorRules } from '../redact/redactor.ts';

/*
 * The messages between the receiver's main thread and its normalize workers. Both ends are this code base
 * in one process, so they are typed here rather than parsed: a zod pass over every record would cost
 * about what normalizing it does.
 */

/** What a worker needs to normalize like the main thread would: the same prices and redaction rules. */
export interface NormalizeWorkerSetup {
  pricingFile?: string;
  redaction: RedactorRules;
}

export type BodyEncoding = 'protobuf' | 'json';

export interface NormalizeJob {
  jobId: number;
  tenantId: string;
  projectId: string;
  encoding: BodyEncoding;
  body: Uint8Array;
}

/**
 * `ready` once a worker has loaded (jobs posted before are queued meanwhile). A job's answer, in order: `records` messages of at most RECORDS_PER_MESSAGE records (the main thread
 * deserializes each in one go, so a large request does not hold its event loop up in one piece), then
 * one `done`, or one `undecodable` (the body is not OTLP: a 400) or `failed` (a bug: a 500).
 */
export type NormalizeReply =
  | { jobId: 0; kind: 'ready' }
  | { jobId: number; kind: 'records'; records: RenderedStep[] }
  | { jobId: number; kind: 'done'; rejected: number; reasons: string[] }
  | { jobId: number; kind: 'undecodable'; message: string }
  | { jobId: number; kind: 'failed'; message: string };

export const RECORDS_PER_MESSAGE = 512;
