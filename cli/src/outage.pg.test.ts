import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ErrorEnvelope } from '@agentrace/schemas';
import { type EmbeddedDatabase, startEmbeddedPostgres } from '@agentrace/store';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Agentrace, startAgentrace } from '../../exporter/src/start-agentrace.ts';
import { parseConfig } from './config.ts';
import { type RunningServer, startServer } from './serve.ts';
import { exportSpans, otlpExporter, recordingTracer } from './testing/otel-client.ts';
import { grpcExport, otlpProtobuf, otlpRequest, retryDelaySeconds } from './testing/raw-otlp.ts';

// This file runs its own PostgreSQL: it stops and restarts it under ingest, which the shared one of the
// test run must never see.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it is true, or fails after `timeoutMs`. */
async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

let dataDir: string;
let postgres: EmbeddedDatabase;
let server: RunningServer;
let otlpUrl: string;
let apiUrl: string;
let ingestKey: string;
let agentrace: Agentrace;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'agentrace-outage-'));
  postgres = await startEmbeddedPostgres({ dataDir });
  const { config } = parseConfig([], {
    DATABASE_URL: postgres.url,
    AGENTRACE_OTLP_HTTP_PORT: '0',
    AGENTRACE_OTLP_GRPC_PORT: '0',
    AGENTRACE_API_PORT: '0',
    AGENTRACE_DB_CHECK_INTERVAL_MS: '200',
    // The polling below must not meet the API's rate limit.
    AGENTRACE_RATE_LIMIT_RPS: '10000',
    AGENTRACE_RATE_LIMIT_BURST: '10000',
  });
  server = await startServer(config, pino({ level: 'silent' }));
  otlpUrl = `http://127.0.0.1:${server.ports.otlpHttp}`;
  apiUrl = `http://127.0.0.1:${server.ports.api}`;
  ingestKey = server.bootstrapped!.ingestKey.key;
  agentrace = startAgentrace({
    endpoint: otlpUrl,
    apiKey: ingestKey,
    serviceName: 'outage-test',
    batchDelayMs: 20,
    exportTimeoutMs: 2000,
    spoolDir: path.join(dataDir, 'spool'),
    spoolMaxBackoffMs: 500,
  });
}, 120_000);

afterAll(async () => {
  await agentrace?.shutdown();
  await server?.close();
  await postgres?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** Span ids (hex) among `spanIds` that are stored, each counted as often as it is. */
async function storedSpanIds(spanIds: string[]): Promise<string[]> {
  const pool = new pg.Pool({ connectionString: postgres.url, max: 1 });
  try {
    const { rows } = await pool.query<{ id: string }>(
      `SELECT encode(span_id, 'hex') AS id FROM step WHERE encode(span_id, 'hex') = ANY($1)`,
      [spanIds],
    );
    return rows.map((r) => r.id);
  } finally {
    await pool.end();
  }
}

/**
 * Exports small batches with the real OTel SDK exporter (http/protobuf), one after the other, until
 * stopped: the span ids of each batch the receiver acknowledged (200). The exporter retries a 503 a few
 * times, then gives up on the batch: those spans were never acknowledged, and nothing is owed for them.
 */
function otelIngestLoop() {
  const acked: string[] = [];
  let stopping = false;
  const exporter = otlpExporter('proto', otlpUrl, ingestKey);
  const done = (async () => {
    const t = recordingTracer('otel-loop');
    while (!stopping) {
      const root = t.start('invoke_agent loop');
      for (let i = 0; i < 4; i++) t.start(`step ${i}`, {}, root).end();
      root.end();
      const spans = t.memory.getFinishedSpans();
      t.memory.reset();
      const ids = spans.map((s) => s.spanContext().spanId);
      if ((await exportSpans(exporter, spans)) === 0) acked.push(...ids);
      await sleep(20);
    }
  })();
  return {
    acked,
    stop: async () => {
      stopping = true;
      await done;
    },
  };
}

/** Ends a span every 20 ms through `startAgentrace` (batching, spooling, replaying) until stopped. */
function agentraceIngestLoop() {
  const produced: string[] = [];
  let stopping = false;
  const tracer = agentrace.provider.getTracer('outage');
  const done = (async () => {
    while (!stopping) {
      const span = tracer.startSpan('tool call');
      span.end();
      produced.push(span.spanContext().spanId);
      await sleep(20);
    }
  })();
  return {
    produced,
    stop: async () => {
      stopping = true;
      await done;
    },
  };
}

const postOtlpBody = (body: unknown) =>
  fetch(`${otlpUrl}/v1/traces`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ingestKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
const postOtlp = (count: number) => postOtlpBody(otlpRequest(count).body);

const metric = async (name: string) => {
  const text = await (await fetch(`${apiUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.slice(name.length + 1));
};

describe('PostgreSQL stopped and restarted under ingest', () => {
  it('answers 503 + Retry-After while it is down, recovers by itself, and loses nothing it acknowledged', async () => {
    const otel = otelIngestLoop();
    const spooled = agentraceIngestLoop();
    await until('acknowledged ingest', async () => otel.acked.length >= 20);
    expect((await fetch(`${apiUrl}/readyz`)).status).toBe(200);

    // A batch in flight when the database goes: held by a lock until then, its commit fails.
    const locker = new pg.Client({ connectionString: postgres.url });
    locker.on('error', () => undefined);
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE step IN ACCESS EXCLUSIVE MODE');
    const inFlight = otlpRequest(3);
    const inFlightAnswer = postOtlpBody(inFlight.body);
    await until('the batch in flight', async () => (await metric('agentrace_ingest_queue_spans')) >= 3);

    await postgres.stop();
    const downSince = Date.now();
    const answer = await inFlightAnswer;
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);

    // Readiness flips within a few health checks, on both ports, and says why.
    await until('/readyz 503', async () => (await fetch(`${apiUrl}/readyz`)).status === 503, 5000);
    for (const base of [apiUrl, otlpUrl]) {
      const res = await fetch(`${base}/readyz`);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
      const body = ErrorEnvelope.parse(await res.json());
      expect(body.error).toMatchObject({ code: 'unavailable', retryable: true });
      expect(body.error.message).toMatch(/^database unavailable: /);
    }

    // The receiver refuses at once with a retryable answer, on every transport.
    const started = Date.now();
    const refused = await postOtlp(3);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(await refused.json()).toEqual({
      code: 14,
      message: expect.stringContaining('database unavailable'),
    });

    const native = await fetch(`${otlpUrl}/v1/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ingestKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'during the outage' }),
    });
    expect(native.status).toBe(503);
    expect(native.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(ErrorEnvelope.parse(await native.json()).error).toMatchObject({
      code: 'unavailable',
      retryable: true,
    });

    const client = new grpc.Client(`127.0.0.1:${server.ports.otlpGrpc}`, grpc.credentials.createInsecure());
    try {
      const { error } = await grpcExport(client, otlpProtobuf(otlpRequest(2).body), {
        authorization: `Bearer ${ingestKey}`,
      });
      expect(retryDelaySeconds(error!)).toBeGreaterThanOrEqual(1);
    } finally {
      client.close();
    }

    // The query API answers 503 too, not 500, and /metrics still serves, with the database down.
    const query = await fetch(`${apiUrl}/v1/runs`, {
      headers: { authorization: 'Bearer art_any-key-will-do' },
    });
    expect(query.status).toBe(503);
    expect(await metric('agentrace_db_up')).toBe(0);
    expect(
      await metric('agentrace_ingest_requests_refused_total{reason="unavailable"}'),
    ).toBeGreaterThanOrEqual(3);
    expect(
      await metric('agentrace_ingest_requests_refused_total{reason="write_failed"}'),
    ).toBeGreaterThanOrEqual(1);

    // Ingest goes on against the outage for a while, then PostgreSQL comes back on the same port.
    await sleep(Math.max(0, 1500 - (Date.now() - downSince)));
    const producedDuringOutage = spooled.produced.length;
    postgres = await startEmbeddedPostgres({ dataDir, port: Number(new URL(postgres.url).port) });

    await until('/readyz 200', async () => (await fetch(`${apiUrl}/readyz`)).status === 200);
    expect((await postOtlp(2)).status).toBe(200);
    expect(await metric('agentrace_db_up')).toBe(1);
    const ackedBefore = otel.acked.length;
    await until('acknowledged ingest after recovery', async () => otel.acked.length >= ackedBefore + 20);

    await Promise.all([otel.stop(), spooled.stop()]);
    // A flush stops at the first request that fails (on a loaded machine, one can still time out while
    // the backlog drains); the spool keeps those spans, so flush until it is empty.
    await until('the spool replayed', async () => {
      await agentrace.forceFlush();
      return agentrace.stats()?.pendingSpans === 0;
    });
    expect(agentrace.stats()).toMatchObject({ pendingSpans: 0, droppedSpans: 0, rejectedSpans: 0 });

    // Every span acknowledged with a 200 is stored, exactly once.
    const acked = await storedSpanIds(otel.acked);
    expect(acked.length).toBe(otel.acked.length);
    expect(new Set(acked).size).toBe(otel.acked.length);
    // The spooling exporter delivered everything, what it produced during the outage included.
    expect(producedDuringOutage).toBeGreaterThan(0);
    const delivered = await storedSpanIds(spooled.produced);
    expect(delivered.length).toBe(spooled.produced.length);
    expect(new Set(delivered).size).toBe(spooled.produced.length);

    // The batch whose commit failed was answered 503, and indeed not stored: its client must resend it.
    expect(await storedSpanIds(inFlight.spanIds)).toEqual([]);

    // No state left stuck: the queue is empty and the refusals stopped.
    expect(await metric('agentrace_ingest_queue_spans')).toBe(0);
    expect((await postOtlp(1)).status).toBe(200);
  }, 120_000);
});
