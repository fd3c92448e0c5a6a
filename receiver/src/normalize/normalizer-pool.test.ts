import type { Worker } from 'node:worker_threads';
import { ByteArena, type RenderedStep, renderStep, type StepRecord } from '@agentrace/store';
import Long from 'long';
import { afterEach, describe, expect, it } from 'vitest';
import { QueueFullError } from '../ingest-queue.ts';
import { decodeJson } from '../otlp/decode-json.ts';
import { decodeProtobuf } from '../otlp/decode-protobuf.ts';
import { UndecodableError } from '../otlp/decoded.ts';
import { ExportTraceServiceRequestType } from '../otlp/otlp-proto.ts';
import { Pricing } from '../pricing/pricing.ts';
import { DEFAULT_RULES } from '../redact/redactor.ts';
import { normalizeRequest } from './normalize-request.ts';
import { NormalizerPool } from './normalizer-pool.ts';

const principal = {
  tenantId: '7d4f7a0e-3c1b-4f5e-9a2d-1b2c3d4e5f60',
  projectId: 'c8a1d2e3-f4a5-4b6c-8d7e-0f1a2b3c4d5e',
};
const ctx = { ...principal, pricing: Pricing.load(), redaction: DEFAULT_RULES };
const TRACE = Buffer.from('5b8efff798038103d269b633813fc60c', 'hex');
const START = 1795322162830123457n;

let nextSpanId = 1;
/** A tool call span; an invalid one ends before it starts. Every tenth is a root (no parent). */
function span(valid: boolean) {
  const id = nextSpanId++;
  const spanId = Buffer.alloc(8);
  spanId.writeUInt32BE(id, 4);
  const u64 = (ns: bigint) => Long.fromString(String(ns), true);
  return {
    traceId: TRACE,
    spanId,
    parentSpanId: id % 10 === 0 ? undefined : Buffer.from('eee19b7ec3c1b173', 'hex'),
    name: `tool ${id}`,
    kind: 1,
    startTimeUnixNano: u64(START),
    endTimeUnixNano: u64(valid ? START + 1_000_000n : START - 1n),
    attributes: [
      { key: 'gen_ai.operation.name', value: { stringValue: 'execute_tool' } },
      { key: 'gen_ai.tool.name', value: { stringValue: 'search' } },
      { key: 'api_key', value: { stringValue: 'hunter2' } },
    ],
  };
}

/** 1,301 spans under two resources and three scopes, seven of them invalid, encoded as OTLP protobuf. */
function bigBody(): Uint8Array {
  const spans = (n: number, invalidEvery: number) =>
    Array.from({ length: n }, (_, i) => span(i % invalidEvery !== invalidEvery - 1));
  const attr = (key: string, value: string) => ({ key, value: { stringValue: value } });
  const request = {
    resourceSpans: [
      {
        resource: { attributes: [attr('service.name', 'planner'), attr('password', 'sekrit')] },
        scopeSpans: [
          { scope: { name: 'a', version: '1' }, spans: spans(700, 200) },
          { scope: { name: 'b', attributes: [attr('token', 'x')] }, spans: spans(300, 1000) },
        ],
      },
      {
        resource: { attributes: [attr('service.name', 'coder')] },
        scopeSpans: [{ scope: { name: 'c', version: '2' }, spans: spans(301, 75) }],
      },
    ],
  };
  return ExportTraceServiceRequestType.encode(ExportTraceServiceRequestType.fromObject(request)).finish();
}

/** Steps with their rows as text and each invocation row's own id (random) masked, to compare. */
const comparable = (steps: RenderedStep[]) =>
  steps.map((s) => ({
    ...s,
    rows: {
      step: s.rows.step.toString(),
      invocation: s.rows.invocation?.toString().replace(/^([^\t]*)\t[^\t]*/, '$1\t<id>') ?? null,
    },
  }));
/** What a worker should hand over for `records`, as `comparable` shows it. */
const renderedOnThread = (records: StepRecord[]) =>
  comparable(records.map((r) => renderStep(r, new ByteArena())));

const pools: NormalizerPool[] = [];
function newPool(options: { threads?: number; maxPendingBytes?: number } = {}): NormalizerPool {
  const pool = new NormalizerPool({
    threads: 2,
    maxPendingBytes: 64 << 20,
    redaction: DEFAULT_RULES,
    ...options,
  });
  pools.push(pool);
  return pool;
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

describe('NormalizerPool', () => {
  it('gives what normalizing and rendering on the main thread gives: steps in order with Buffer ids and rows, rejections and reasons', async () => {
    const body = bigBody();
    const onThread = normalizeRequest(ctx, decodeProtobuf(Buffer.from(body)));
    const inWorker = await newPool().normalize(principal, body, 'protobuf');
    expect(inWorker.records.length).toBe(1301 - 7);
    expect(inWorker.rejected).toBe(7);
    expect(inWorker.reasons).toEqual(onThread.reasons);
    expect(comparable(inWorker.records)).toEqual(renderedOnThread(onThread.records));
    const root = inWorker.records.find((r) => r.run.isRoot)!;
    expect([root.traceId, root.spanId, root.rows.step, root.rows.invocation].every(Buffer.isBuffer)).toBe(
      true,
    );
    expect(root.traceId!.toString('hex')).toBe(TRACE.toString('hex'));
    // Redacted in the worker with the rules it was given.
    expect(inWorker.records[0]!.rows.step.toString()).toContain('[REDACTED:denylist.key]');
    expect(inWorker.records[0]!.rows.step.toString()).not.toContain('hunter2');
  });

  it('keeps kilobytes, not a megabyte, alive for each small request it hands over', async () => {
    // A receiver with a backlog of small requests holds every one's rows until its batch commits.
    const body = ExportTraceServiceRequestType.encode(
      ExportTraceServiceRequestType.fromObject({
        resourceSpans: [{ scopeSpans: [{ spans: [span(true)] }] }],
      }),
    ).finish();
    const { records } = await newPool({ threads: 1 }).normalize(principal, body, 'protobuf');
    expect(records).toHaveLength(1);
    const held = new Set([records[0]!.rows.step.buffer, records[0]!.rows.invocation!.buffer]);
    expect([...held].reduce((bytes, b) => bytes + b.byteLength, 0)).toBeLessThanOrEqual(8 * 1024);
  });

  it('decodes OTLP/JSON bodies too', async () => {
    const json = JSON.stringify({
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                {
                  traceId: TRACE.toString('hex'),
                  spanId: 'eee19b7ec3c1b174',
                  name: 'root',
                  startTimeUnixNano: '1795322162830123457',
                  endTimeUnixNano: '1795322163830123457',
                },
              ],
            },
          ],
        },
      ],
    });
    const result = await newPool().normalize(principal, Buffer.from(json), 'json');
    expect(comparable(result.records)).toEqual(
      renderedOnThread(normalizeRequest(ctx, decodeJson(json)).records),
    );
    expect(result.records[0]!.name).toBe('root');
  });

  it('answers a body that is not OTLP with UndecodableError and the decoder’s own message, and keeps working', async () => {
    const pool = newPool({ threads: 1 });
    const garbage = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    let expected = '';
    try {
      decodeProtobuf(garbage);
    } catch (err) {
      expected = (err as Error).message;
    }
    await expect(pool.normalize(principal, garbage, 'protobuf')).rejects.toThrow(
      new UndecodableError(expected),
    );
    await expect(pool.normalize(principal, Buffer.from('{"resourceSpans":'), 'json')).rejects.toBeInstanceOf(
      UndecodableError,
    );
    expect((await pool.normalize(principal, bigBody(), 'protobuf')).records.length).toBe(1301 - 7);
  });

  it('refuses work beyond its byte limit with QueueFullError, and takes it again once the backlog is done', async () => {
    const body = bigBody();
    const pool = newPool({ threads: 1, maxPendingBytes: body.byteLength + 1 });
    const first = pool.normalize(principal, body, 'protobuf');
    expect(() => pool.normalize(principal, body, 'protobuf')).toThrow(QueueFullError);
    await first;
    expect((await pool.normalize(principal, body, 'protobuf')).rejected).toBe(7);
  });

  it('fails the jobs of a worker that dies (the client retries) and goes on with a new one', async () => {
    const pool = newPool({ threads: 1 });
    await pool.ready();
    const inFlight = pool.normalize(principal, bigBody(), 'protobuf');
    // A crash, as an out-of-memory kill would end it: the worker is gone mid-job.
    const { slots } = pool as unknown as { slots: { worker: Worker }[] };
    await slots[0]!.worker.terminate();
    await expect(inFlight).rejects.toThrow(/normalize worker exited/);
    expect((await pool.normalize(principal, bigBody(), 'protobuf')).records.length).toBe(1301 - 7);
  });

  it('answers concurrent requests spread over its threads each with its own records', async () => {
    const pool = newPool({ threads: 3 });
    const bodies = Array.from({ length: 6 }, () => bigBody());
    const results = await Promise.all(bodies.map((b) => pool.normalize(principal, b, 'protobuf')));
    results.forEach((result, i) => {
      expect(comparable(result.records)).toEqual(
        renderedOnThread(normalizeRequest(ctx, decodeProtobuf(Buffer.from(bodies[i]!))).records),
      );
    });
  });
});
