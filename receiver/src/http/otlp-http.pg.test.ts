import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateSync, gzipSync } from 'node:zlib';
import { createTenant, DbHealth, type NewTenant, writeSteps } from '@agentrace/store';
import { createTestDatabase, type TestDatabase } from '@agentrace/store/testing';
import Long from 'long';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestQueue } from '../ingest-queue.ts';
import { createIngestService } from '../ingest-service.ts';
import { NormalizerPool } from '../normalize/normalizer-pool.ts';
import { ReceiverMetrics } from '../metrics.ts';
import {
  ExportTraceServiceRequestType,
  ExportTraceServiceResponseType,
  RpcStatusType,
} from '../otlp/otlp-proto.ts';
import { Pricing } from '../pricing/pricing.ts';
import { createReceiverApp } from '../receiver-app.ts';
import { DEFAULT_RULES } from '../redact/redactor.ts';

const MAX_BODY_BYTES = 16 * 1024;
const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';
type Encoding = 'protobuf' | 'json';
const CONTENT_TYPE: Record<Encoding, string> = { protobuf: PROTOBUF, json: JSON_TYPE };

interface Receiver {
  url: string;
  queue: IngestQueue;
  close(): Promise<void>;
}

let db: TestDatabase;
let tenant: NewTenant;
let receiver: Receiver;
const started: Receiver[] = [];

/** The receiver as `agentrace serve` composes it, on loopback port 0. */
async function startReceiver(queueOptions: { maxQueuedSpans: number; writers: number }): Promise<Receiver> {
  const metrics = new ReceiverMetrics();
  const queue = new IngestQueue(
    (records) => writeSteps(db.pool, records),
    { maxBatchSpans: 100, ...queueOptions },
    metrics,
  );
  const normalizer = new NormalizerPool({ threads: 1, maxPendingBytes: 4 * MAX_BODY_BYTES, redaction: DEFAULT_RULES });
  const ingest = createIngestService({
    pool: db.pool,
    queue,
    normalizer,
    pricing: Pricing.load(),
    redaction: DEFAULT_RULES,
    metrics,
  });
  const app = createReceiverApp({
    pool: db.pool,
    health: new DbHealth(db.pool),
    ingest,
    metrics,
    logger: pino({ level: 'silent' }),
    maxBodyBytes: MAX_BODY_BYTES,
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1');
    s.once('listening', () => resolve(s));
    s.once('error', reject);
  });
  const r: Receiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    queue,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await queue.drain();
      await normalizer.close();
    },
  };
  started.push(r);
  return r;
}

beforeAll(async () => {
  db = await createTestDatabase();
  tenant = await createTenant(db.pool, 'receiver-http-tests');
  receiver = await startReceiver({ maxQueuedSpans: 10_000, writers: 2 });
});

afterAll(async () => {
  for (const r of started) await r.close();
  await db?.drop();
});

// ---- requests --------------------------------------------------------------------------------------------

interface SpanSpec {
  traceId: Buffer;
  spanId: Buffer;
  name: string;
  startNs: bigint;
  endNs: bigint;
}

const T0 = 1795322162830123457n;
let counter = 0;
/** A valid span of `traceId` (a fresh trace by default) with a unique name. */
function validSpan(traceId: Buffer = randomBytes(16), fields: Partial<SpanSpec> = {}): SpanSpec {
  counter++;
  return {
    traceId,
    spanId: randomBytes(8),
    name: `span-${counter}`,
    startNs: T0,
    endNs: T0 + 5_000_000n,
    ...fields,
  };
}

function protobufBody(spans: SpanSpec[]): Buffer {
  const message = ExportTraceServiceRequestType.fromObject({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'http-tests' } }] },
        scopeSpans: [
          {
            scope: { name: 'tests' },
            spans: spans.map((s) => ({
              traceId: s.traceId,
              spanId: s.spanId,
              name: s.name,
              kind: 1,
              startTimeUnixNano: Long.fromString(s.startNs.toString(), true),
              endTimeUnixNano: Long.fromString(s.endNs.toString(), true),
              attributes: [{ key: 'gen_ai.operation.name', value: { stringValue: 'execute_tool' } }],
            })),
          },
        ],
      },
    ],
  });
  return Buffer.from(ExportTraceServiceRequestType.encode(message).finish());
}

function jsonBody(spans: SpanSpec[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'http-tests' } }] },
          scopeSpans: [
            {
              scope: { name: 'tests' },
              spans: spans.map((s) => ({
                traceId: s.traceId.toString('hex'),
                spanId: s.spanId.toString('hex'),
                name: s.name,
                kind: 1,
                startTimeUnixNano: s.startNs.toString(),
                endTimeUnixNano: s.endNs.toString(),
                attributes: [{ key: 'gen_ai.operation.name', value: { stringValue: 'execute_tool' } }],
              })),
            },
          ],
        },
      ],
    }),
  );
}

const bodyOf = (encoding: Encoding, spans: SpanSpec[]) =>
  encoding === 'protobuf' ? protobufBody(spans) : jsonBody(spans);

interface Reply {
  status: number;
  headers: Headers;
  body: Buffer;
}

async function post(
  body: Uint8Array | string,
  headers: Record<string, string>,
  url = receiver.url,
): Promise<Reply> {
  const res = await fetch(`${url}/v1/traces`, { method: 'POST', headers, body });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

const withKey = (encoding: Encoding, key = tenant.ingestKey.key, extra: Record<string, string> = {}) => ({
  'content-type': CONTENT_TYPE[encoding],
  authorization: `Bearer ${key}`,
  ...extra,
});

const mediaType = (reply: Reply) => (reply.headers.get('content-type') ?? '').split(';')[0]!.trim();

/** The google.rpc.Status of a failure, decoded in the reply's own encoding (which must be `encoding`). */
function statusOf(reply: Reply, encoding: Encoding): { code: number; message: string } {
  expect(mediaType(reply)).toBe(CONTENT_TYPE[encoding]);
  if (encoding === 'json') return JSON.parse(reply.body.toString('utf8'));
  const decoded = RpcStatusType.toObject(RpcStatusType.decode(reply.body), { defaults: true });
  return decoded as { code: number; message: string };
}

/** The ExportTraceServiceResponse of a success, decoded in the reply's own encoding. */
function exportResponseOf(
  reply: Reply,
  encoding: Encoding,
): { partialSuccess?: { rejectedSpans: string; errorMessage: string } } {
  expect(mediaType(reply)).toBe(CONTENT_TYPE[encoding]);
  if (encoding === 'json') return JSON.parse(reply.body.toString('utf8'));
  return ExportTraceServiceResponseType.toObject(ExportTraceServiceResponseType.decode(reply.body), {
    longs: String,
  }) as never;
}

async function storedSpans(traceId: Buffer): Promise<{ span_id: string; name: string }[]> {
  const { rows } = await db.pool.query<{ span_id: string; name: string }>(
    `SELECT encode(span_id, 'hex') AS span_id, name FROM step WHERE tenant_id = $1 AND trace_id = $2 ORDER BY seq`,
    [tenant.tenantId, traceId],
  );
  return rows;
}

// ---- tests -----------------------------------------------------------------------------------------------

describe.each(['protobuf', 'json'] as const)('POST /v1/traces in %s', (encoding) => {
  it('stores the spans of a valid request and answers 200 in the request encoding, without partialSuccess', async () => {
    const traceId = randomBytes(16);
    const spans = [validSpan(traceId), validSpan(traceId)];
    const reply = await post(bodyOf(encoding, spans), withKey(encoding));
    expect(reply.status).toBe(200);
    expect(exportResponseOf(reply, encoding).partialSuccess ?? null).toBeNull();
    expect((await storedSpans(traceId)).map((s) => s.span_id).sort()).toEqual(
      spans.map((s) => s.spanId.toString('hex')).sort(),
    );
  });

  it('stores a span delivered twice once', async () => {
    const traceId = randomBytes(16);
    const body = bodyOf(encoding, [validSpan(traceId)]);
    expect((await post(body, withKey(encoding))).status).toBe(200);
    expect((await post(body, withKey(encoding))).status).toBe(200);
    expect(await storedSpans(traceId)).toHaveLength(1);
  });

  it('answers 401 with a google.rpc.Status (UNAUTHENTICATED) when the key is missing', async () => {
    const traceId = randomBytes(16);
    const reply = await post(bodyOf(encoding, [validSpan(traceId)]), {
      'content-type': CONTENT_TYPE[encoding],
    });
    expect(reply.status).toBe(401);
    const status = statusOf(reply, encoding);
    expect(status.code).toBe(16);
    expect(status.message).toMatch(/ingest key/);
    expect(await storedSpans(traceId)).toEqual([]);
  });

  it.each([
    ['an unknown key', () => `Bearer art_${randomBytes(32).toString('base64url')}`],
    ['a key in a Basic header', () => `Basic ${Buffer.from(`x:${tenant.ingestKey.key}`).toString('base64')}`],
    ['a bare key without the Bearer scheme', () => tenant.ingestKey.key],
  ])('answers 401 for %s', async (_label, header) => {
    const reply = await post(bodyOf(encoding, [validSpan()]), {
      'content-type': CONTENT_TYPE[encoding],
      authorization: header(),
    });
    expect(reply.status).toBe(401);
    expect(statusOf(reply, encoding).code).toBe(16);
  });

  it('answers 403 (PERMISSION_DENIED) for a user key, even an admin one', async () => {
    const traceId = randomBytes(16);
    const reply = await post(bodyOf(encoding, [validSpan(traceId)]), withKey(encoding, tenant.adminKey.key));
    expect(reply.status).toBe(403);
    expect(statusOf(reply, encoding)).toMatchObject({
      code: 7,
      message: expect.stringMatching(/ingest key/),
    });
    expect(await storedSpans(traceId)).toEqual([]);
  });

  it('accepts gzip and deflate bodies and stores their spans', async () => {
    for (const [contentEncoding, compress] of [
      ['gzip', gzipSync],
      ['deflate', deflateSync],
    ] as const) {
      const traceId = randomBytes(16);
      const span = validSpan(traceId);
      const reply = await post(
        compress(bodyOf(encoding, [span])),
        withKey(encoding, undefined, { 'content-encoding': contentEncoding }),
      );
      expect(reply.status, contentEncoding).toBe(200);
      expect(mediaType(reply)).toBe(CONTENT_TYPE[encoding]);
      expect(await storedSpans(traceId)).toEqual([{ span_id: span.spanId.toString('hex'), name: span.name }]);
    }
  });

  it('answers 413 when the body exceeds the limit only once decompressed', async () => {
    const traceId = randomBytes(16);
    const spans = Array.from({ length: 400 }, () => validSpan(traceId, { name: 'x'.repeat(100) }));
    const raw = bodyOf(encoding, spans);
    const compressed = gzipSync(raw);
    expect(raw.length).toBeGreaterThan(MAX_BODY_BYTES);
    expect(compressed.length).toBeLessThan(MAX_BODY_BYTES);
    const reply = await post(compressed, withKey(encoding, undefined, { 'content-encoding': 'gzip' }));
    expect(reply.status).toBe(413);
    const status = statusOf(reply, encoding);
    expect(status.code).toBe(8);
    expect(status.message).toContain(String(MAX_BODY_BYTES));
    expect(await storedSpans(traceId)).toEqual([]);
  });

  it('answers 413 for an uncompressed body above the limit', async () => {
    const spans = Array.from({ length: 400 }, () => validSpan(undefined, { name: 'x'.repeat(100) }));
    const reply = await post(bodyOf(encoding, spans), withKey(encoding));
    expect(reply.status).toBe(413);
    expect(statusOf(reply, encoding).code).toBe(8);
  });

  it('answers 400 for a body that claims gzip but is not', async () => {
    const reply = await post(
      Buffer.from('definitely not gzip'),
      withKey(encoding, undefined, { 'content-encoding': 'gzip' }),
    );
    expect(reply.status).toBe(400);
    expect(statusOf(reply, encoding).message).toMatch(/could not read the request body/);
  });

  it('answers 415 for a Content-Encoding it does not support', async () => {
    const reply = await post(
      bodyOf(encoding, [validSpan()]),
      withKey(encoding, undefined, { 'content-encoding': 'snappy' }),
    );
    expect(reply.status).toBe(415);
    expect(statusOf(reply, encoding).message).toMatch(/snappy|encoding/);
  });

  it('keeps the valid span of a request and reports the invalid ones in partialSuccess', async () => {
    const traceId = randomBytes(16);
    const good = validSpan(traceId);
    const wrongLength = validSpan(traceId, { spanId: randomBytes(4) });
    const zeroTrace = validSpan(Buffer.alloc(16));
    const endBeforeStart = validSpan(traceId, { endNs: T0 - 1n });
    const reply = await post(
      bodyOf(encoding, [wrongLength, good, zeroTrace, endBeforeStart]),
      withKey(encoding),
    );
    expect(reply.status).toBe(200);
    const partial = exportResponseOf(reply, encoding).partialSuccess!;
    expect(partial.rejectedSpans).toBe('3');
    expect(partial.errorMessage).toContain('span id must be 8 bytes, got 4');
    expect(partial.errorMessage).toContain('trace id is all zeros');
    expect(partial.errorMessage).toContain(
      `span ${endBeforeStart.spanId.toString('hex')}: end time is before start time`,
    );
    expect(await storedSpans(traceId)).toEqual([{ span_id: good.spanId.toString('hex'), name: good.name }]);
    expect(await storedSpans(Buffer.alloc(16))).toEqual([]);
  });

  it('answers an empty request with 200 and no partialSuccess', async () => {
    const reply = await post(encoding === 'protobuf' ? Buffer.alloc(0) : '{}', withKey(encoding));
    expect(reply.status).toBe(200);
    const response = exportResponseOf(reply, encoding);
    expect(response.partialSuccess ?? null).toBeNull();
    if (encoding === 'json') expect(response).toEqual({});
    else expect(reply.body.length).toBe(0);
  });
});

describe('POST /v1/traces: undecodable bodies and content types', () => {
  it('answers 400 with a protobuf Status naming the problem for garbage protobuf', async () => {
    const reply = await post(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]), withKey('protobuf'));
    expect(reply.status).toBe(400);
    const status = statusOf(reply, 'protobuf');
    expect(status.code).toBe(3);
    expect(status.message).toMatch(/^invalid protobuf ExportTraceServiceRequest: .+/);
  });

  it.each([
    ['malformed JSON', '{"resourceSpans": [', /^invalid JSON: /],
    [
      'a field of the wrong type',
      JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ name: 42 }] }] }] }),
      /resourceSpans\.0\.scopeSpans\.0\.spans\.0\.name/,
    ],
  ])('answers 400 with a JSON Status naming the problem for %s', async (_label, body, message) => {
    const reply = await post(body, withKey('json'));
    expect(reply.status).toBe(400);
    const status = statusOf(reply, 'json');
    expect(status.code).toBe(3);
    expect(status.message).toMatch(message);
  });

  it.each(['text/plain', 'application/xml', 'application/grpc'])(
    'answers 415 for Content-Type %s',
    async (contentType) => {
      const reply = await post(jsonBody([validSpan()]), {
        'content-type': contentType,
        authorization: `Bearer ${tenant.ingestKey.key}`,
      });
      expect(reply.status).toBe(415);
      expect(statusOf(reply, 'json').message).toContain(contentType);
    },
  );

  it('answers 415 when there is no Content-Type at all', async () => {
    const reply = await post(jsonBody([validSpan()]), { authorization: `Bearer ${tenant.ingestKey.key}` });
    expect(reply.status).toBe(415);
  });

  it('accepts a JSON Content-Type with parameters and answers in JSON', async () => {
    const traceId = randomBytes(16);
    const reply = await post(jsonBody([validSpan(traceId)]), {
      'content-type': 'application/json; charset=utf-8',
      authorization: `Bearer ${tenant.ingestKey.key}`,
    });
    expect(reply.status).toBe(200);
    expect(mediaType(reply)).toBe(JSON_TYPE);
    expect(await storedSpans(traceId)).toHaveLength(1);
  });

  it.each(['application/protobuf', 'application/x-protobuf'])(
    'answers a %s request in that same media type, also when it fails',
    async (contentType) => {
      const ok = await post(protobufBody([validSpan(randomBytes(16))]), {
        'content-type': contentType,
        authorization: `Bearer ${tenant.ingestKey.key}`,
      });
      expect(ok.status).toBe(200);
      expect(mediaType(ok)).toBe(contentType);
      const refused = await post(protobufBody([validSpan(randomBytes(16))]), { 'content-type': contentType });
      expect(refused.status).toBe(401);
      expect(mediaType(refused)).toBe(contentType);
    },
  );

  it('answers 401 for a revoked ingest key', async () => {
    const other = await createTenant(db.pool, 'revoked-key-tenant');
    const traceId = randomBytes(16);
    expect(
      (await post(protobufBody([validSpan(traceId)]), withKey('protobuf', other.ingestKey.key))).status,
    ).toBe(200);
    await db.pool.query('UPDATE api_key SET revoked_at = now() WHERE id = $1', [other.ingestKey.keyId]);
    const reply = await post(protobufBody([validSpan()]), withKey('protobuf', other.ingestKey.key));
    expect(reply.status).toBe(401);
    expect(statusOf(reply, 'protobuf').code).toBe(16);
  });

  it("stores spans under the key's own tenant", async () => {
    const other = await createTenant(db.pool, 'second-tenant');
    const traceId = randomBytes(16);
    expect((await post(jsonBody([validSpan(traceId)]), withKey('json', other.ingestKey.key))).status).toBe(
      200,
    );
    const { rows } = await db.pool.query<{ tenant_id: string }>(
      'SELECT tenant_id FROM step WHERE trace_id = $1',
      [traceId],
    );
    expect(rows).toEqual([{ tenant_id: other.tenantId }]);
  });
});

describe('POST /v1/traces under overload', () => {
  it('answers 503 with Retry-After while the queue is full, and acknowledges queued spans only once committed', async () => {
    const small = await startReceiver({ maxQueuedSpans: 2, writers: 1 });
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    try {
      // The writer's first statement inserts into run: holding this lock makes it block for real.
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE run IN ACCESS EXCLUSIVE MODE');

      const traceId = randomBytes(16);
      const queued = [validSpan(traceId), validSpan(traceId)];
      let firstSettled = false;
      const first = post(protobufBody(queued), withKey('protobuf'), small.url).finally(() => {
        firstSettled = true;
      });

      // Wait until both spans are queued and the writer is waiting on the lock.
      const deadline = Date.now() + 10_000;
      for (;;) {
        const { rows } = await locker.query<{ waiting: number }>(
          `SELECT count(*)::int AS waiting FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
        );
        if (small.queue.depth === 2 && rows[0]!.waiting > 0) break;
        if (Date.now() > deadline) throw new Error(`writer never blocked (queue depth ${small.queue.depth})`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }

      const refusedTrace = randomBytes(16);
      const refused = await post(protobufBody([validSpan(refusedTrace)]), withKey('protobuf'), small.url);
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(statusOf(refused, 'protobuf').code).toBe(14);

      const refusedJson = await post(jsonBody([validSpan(refusedTrace)]), withKey('json'), small.url);
      expect(refusedJson.status).toBe(503);
      expect(refusedJson.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(statusOf(refusedJson, 'json').code).toBe(14);

      // Not acknowledged while its transaction cannot commit.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(firstSettled).toBe(false);

      await locker.query('ROLLBACK');
      const reply = await first;
      expect(reply.status).toBe(200);
      expect(exportResponseOf(reply, 'protobuf').partialSuccess ?? null).toBeNull();
      expect((await storedSpans(traceId)).map((s) => s.span_id).sort()).toEqual(
        queued.map((s) => s.spanId.toString('hex')).sort(),
      );
      expect(await storedSpans(refusedTrace)).toEqual([]);
      expect(small.queue.depth).toBe(0);

      // Once drained, the same receiver accepts again.
      const retried = await post(protobufBody([validSpan(refusedTrace)]), withKey('protobuf'), small.url);
      expect(retried.status).toBe(200);
      expect(await storedSpans(refusedTrace)).toHaveLength(1);
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
    }
  });
});
