import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import * as grpc from '@grpc/grpc-js';
import { ErrorEnvelope } from '@agentrace/schemas';
import { createTestDatabase, type TestDatabase } from '@agentrace/store/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { type RunningServer, type ServeMode, startServer } from './serve.ts';
import { exportSpans, otlpExporter, recordAgentRun, recordingTracer } from './testing/otel-client.ts';
import { grpcExport, otlpProtobuf, otlpRequest } from './testing/raw-otlp.ts';
import { startTestServer, type TestServer } from './testing/test-server.ts';

/** Every line the logger wrote, parsed. */
function captureLogs() {
  const lines: Record<string, unknown>[] = [];
  let raw = '';
  const logger = createLogger('info', {
    write(chunk: string) {
      raw += chunk;
      lines.push(JSON.parse(chunk) as Record<string, unknown>);
    },
  });
  return { logger, lines, raw: () => raw };
}

type Labels = Record<string, string>;

/** The samples of the Prometheus text exposition, as name, labels and value. */
function parseMetrics(text: string): { name: string; labels: Labels; value: number }[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`not a sample line: ${line}`);
      const labels = Object.fromEntries(
        [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]),
      );
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
}

/** The value of the one sample of `name` whose labels include `labels`; 0 when there is none yet. */
function sample(text: string, name: string, labels: Labels = {}): number {
  const found = parseMetrics(text).filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value ?? 0;
}

const scrape = async (base: string, headers: Record<string, string> = {}) => {
  const res = await fetch(`${base}/metrics`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
};

let s: TestServer;
const logs = captureLogs();
beforeAll(async () => {
  s = await startTestServer({}, logs.logger);
});
afterAll(async () => {
  await s?.close();
});

const postJson = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${s.otlpUrl}/v1/traces`, {
    method: 'POST',
    headers: { authorization: `Bearer ${s.ingestKey}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

describe('GET /metrics', () => {
  it('is the same registry on the API port and the receiver port, open without a key', async () => {
    const names = (text: string) => new Set(parseMetrics(text).map((m) => m.name));
    // The families each port exposes (a family's samples come and go: nodejs_active_requests has one only
    // while some request of the process is in flight).
    const families = (text: string) => new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    // A first request, so that the request histogram has a sample in both scrapes.
    await scrape(s.otlpUrl);
    const api = await scrape(s.apiUrl);
    const receiver = await scrape(s.otlpUrl);
    expect(families(api)).toEqual(families(receiver));
    expect(families(api).size).toBeGreaterThan(40);
    for (const name of [
      'agentrace_spans_accepted_total',
      'agentrace_spans_duplicate_total',
      'agentrace_ingest_queue_spans',
      'agentrace_ingest_queue_waiting_spans',
      'agentrace_ingest_batch_seconds_count',
      'agentrace_db_up',
      'agentrace_db_pool_connections',
      'agentrace_db_pool_waiting',
      'agentrace_db_pool_max_connections',
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
    ])
      expect(names(api), name).toContain(name);
    expect(sample(api, 'agentrace_db_up')).toBe(1);
    expect(sample(api, 'agentrace_db_pool_max_connections')).toBe(20);
  });

  it('counts N accepted spans after N spans exported by the OTel SDK, batches committed, an empty queue after', async () => {
    const before = await scrape(s.otlpUrl);
    const spans = recordAgentRun(recordingTracer());
    expect(await exportSpans(otlpExporter('proto', s.otlpUrl, s.ingestKey), spans)).toBe(0);
    // The same spans again: duplicates, not accepted.
    expect(await exportSpans(otlpExporter('json', s.otlpUrl, s.ingestKey), spans)).toBe(0);
    const after = await scrape(s.otlpUrl);
    const delta = (name: string, labels?: Labels) =>
      sample(after, name, labels) - sample(before, name, labels);
    expect(delta('agentrace_spans_accepted_total')).toBe(spans.length);
    expect(delta('agentrace_spans_duplicate_total')).toBe(spans.length);
    expect(delta('agentrace_ingest_batch_seconds_count')).toBe(2);
    expect(delta('agentrace_ingest_batch_seconds_sum')).toBeGreaterThan(0);
    expect(sample(after, 'agentrace_ingest_queue_spans')).toBe(0);
    expect(sample(after, 'agentrace_ingest_queue_waiting_spans')).toBe(0);
  });

  it('counts an invalid span as rejected by reason and a refused request by reason', async () => {
    const before = await scrape(s.apiUrl);
    const request = otlpRequest(3);
    request.body.resourceSpans[0]!.scopeSpans[0]!.spans[1]!.spanId = '0000000000000000';
    const res = await postJson(request.body);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ partialSuccess: { rejectedSpans: '1' } });
    expect((await postJson(otlpRequest(1).body, { authorization: 'Bearer art_nope' })).status).toBe(401);
    const after = await scrape(s.apiUrl);
    const delta = (name: string, labels?: Labels) =>
      sample(after, name, labels) - sample(before, name, labels);
    expect(delta('agentrace_spans_rejected_total', { reason: 'invalid_span' })).toBe(1);
    expect(delta('agentrace_spans_accepted_total')).toBe(2);
    expect(delta('agentrace_ingest_requests_refused_total', { reason: 'unauthenticated' })).toBe(1);
  });

  it('labels HTTP requests by route template and status, never by raw path', async () => {
    const runId = randomUUID();
    expect((await s.api(`/v1/runs/${runId}`)).status).toBe(404);
    expect((await s.api(`/v1/runs/${runId}`, { key: 'art_not-a-key' })).status).toBe(401);
    expect((await fetch(`${s.apiUrl}/no/such/${runId}`)).status).toBe(404);
    const finish = await fetch(`${s.otlpUrl}/v1/runs/${runId}:finish`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.ingestKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'succeeded' }),
    });
    expect(finish.status).toBe(404);
    const text = await scrape(s.apiUrl);
    const count = (labels: Labels) => sample(text, 'agentrace_http_request_duration_seconds_count', labels);
    expect(count({ app: 'api', method: 'GET', route: '/v1/runs/:runId', status: '404' })).toBe(1);
    expect(count({ app: 'api', method: 'GET', route: '/v1/runs/:runId', status: '401' })).toBe(1);
    expect(count({ app: 'api', method: 'GET', route: 'unmatched', status: '404' })).toBeGreaterThanOrEqual(1);
    expect(
      count({ app: 'receiver', method: 'POST', route: '/v1/traces', status: '200' }),
    ).toBeGreaterThanOrEqual(1);
    expect(count({ app: 'receiver', method: 'POST', route: '/v1/runs/:runId:finish', status: '404' })).toBe(
      1,
    );
    expect(text).not.toContain(runId);
  });

  it('counts gRPC calls by status code', async () => {
    const client = new grpc.Client(s.otlpGrpcAddress, grpc.credentials.createInsecure());
    try {
      const ok = await grpcExport(client, otlpProtobuf(otlpRequest(2).body), {
        authorization: `Bearer ${s.ingestKey}`,
      });
      expect(ok.error).toBeNull();
      const refused = await grpcExport(client, otlpProtobuf(otlpRequest(1).body), {
        authorization: 'Bearer art_nope',
      });
      expect(refused.error?.code).toBe(grpc.status.UNAUTHENTICATED);
    } finally {
      client.close();
    }
    const text = await scrape(s.otlpUrl);
    const count = (code: string) =>
      sample(text, 'agentrace_grpc_request_duration_seconds_count', {
        method: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
        code,
      });
    expect(count('OK')).toBeGreaterThanOrEqual(1);
    expect(count('UNAUTHENTICATED')).toBe(1);
  });
});

describe('request ids and request logs', () => {
  const lineOf = (requestId: string) => logs.lines.filter((l) => l.requestId === requestId);

  it('echoes a sane X-Request-Id and logs one line with it, the route template, the status and the duration', async () => {
    const runId = randomUUID();
    const res = await s.api(`/v1/runs/${runId}`, { headers: { 'x-request-id': 'proxy-7f3a.42' } });
    expect(res.status).toBe(404);
    expect(res.headers.get('x-request-id')).toBe('proxy-7f3a.42');
    expect(lineOf('proxy-7f3a.42')).toEqual([
      {
        level: 30,
        time: expect.any(Number),
        pid: process.pid,
        hostname: expect.any(String),
        msg: 'request',
        requestId: 'proxy-7f3a.42',
        transport: 'http',
        app: 'api',
        method: 'GET',
        route: '/v1/runs/:runId',
        status: 404,
        durationMs: expect.any(Number),
      },
    ]);
  });

  it.each([
    ['none', undefined],
    ['one with spaces', 'not a sane id'],
    ['one too long', 'x'.repeat(129)],
    ['one with a separator', 'id;drop'],
  ])('generates a UUID when the caller sends %s', async (_label, sent) => {
    const res = await fetch(`${s.otlpUrl}/healthz`, {
      headers: sent === undefined ? {} : { 'x-request-id': sent },
    });
    const id = res.headers.get('x-request-id')!;
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(lineOf(id)).toEqual([
      expect.objectContaining({ app: 'receiver', route: '/healthz', status: 200 }),
    ]);
  });

  it('logs a gRPC export with the x-request-id of its metadata, echoed in the response metadata', async () => {
    const client = new grpc.Client(s.otlpGrpcAddress, grpc.credentials.createInsecure());
    try {
      const { error, metadata } = await grpcExport(client, otlpProtobuf(otlpRequest(1).body), {
        authorization: `Bearer ${s.ingestKey}`,
        'x-request-id': 'grpc-call-1',
      });
      expect(error).toBeNull();
      expect(metadata?.get('x-request-id')).toEqual(['grpc-call-1']);
    } finally {
      client.close();
    }
    expect(lineOf('grpc-call-1')).toEqual([
      expect.objectContaining({
        msg: 'request',
        transport: 'grpc',
        app: 'receiver',
        route: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
        status: 'OK',
        durationMs: expect.any(Number),
      }),
    ]);
  });

  it('never writes a key or the authorization header to the logs', async () => {
    const spans = recordAgentRun(recordingTracer());
    expect(await exportSpans(otlpExporter('proto', s.otlpUrl, s.ingestKey), spans)).toBe(0);
    expect((await s.api('/v1/runs')).status).toBe(200);
    // A failed request too: the error paths log more.
    expect((await s.api('/v1/runs/not-a-uuid')).status).toBe(400);
    expect(logs.lines.length).toBeGreaterThan(3);
    expect(logs.raw()).not.toContain(s.ingestKey);
    expect(logs.raw()).not.toContain(s.adminKey);
    expect(logs.raw().toLowerCase()).not.toContain('bearer');
  });

  it('censors an authorization header or a key should an object holding one be logged', () => {
    const { logger, raw } = captureLogs();
    logger.info({ req: { headers: { authorization: 'Bearer art_secret-1' } } }, 'a request');
    logger.info(
      { headers: { authorization: 'Bearer art_secret-2' }, config: { adminKey: 'art_secret-3' } },
      'x',
    );
    expect(raw()).not.toMatch(/art_secret/);
    expect(raw()).toContain('[redacted]');
  });
});

describe('AGENTRACE_METRICS_TOKEN', () => {
  let guarded: TestServer;
  const token = 'scrape-token-0123456789';
  beforeAll(async () => {
    guarded = await startTestServer({ AGENTRACE_METRICS_TOKEN: token });
  });
  afterAll(async () => {
    await guarded?.close();
  });

  it.each(['apiUrl', 'otlpUrl'] as const)('makes /metrics on %s want it as a bearer token', async (base) => {
    for (const headers of [
      {} as Record<string, string>,
      { authorization: 'Bearer wrong-token-0123456789' },
      { authorization: `Bearer ${guarded.adminKey}` },
    ]) {
      const res = await fetch(`${guarded[base]}/metrics`, { headers });
      expect(res.status).toBe(401);
      expect(ErrorEnvelope.parse(await res.json()).error.code).toBe('unauthenticated');
    }
    expect(await scrape(guarded[base], { authorization: `Bearer ${token}` })).toContain('agentrace_db_up 1');
  });
});

describe('agentrace serve receiver | api', () => {
  let db: TestDatabase;
  const running: RunningServer[] = [];
  const start = async (mode: ServeMode) => {
    const { config } = parseConfig([], {
      DATABASE_URL: db.url,
      AGENTRACE_OTLP_HTTP_PORT: '0',
      AGENTRACE_OTLP_GRPC_PORT: '0',
      AGENTRACE_API_PORT: '0',
    });
    const server = await startServer(config, pino({ level: 'silent' }), mode);
    running.push(server);
    return server;
  };
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    for (const server of running) await server.close();
    await db?.drop();
  });

  it('runs the sides apart on one database: what the receiver stores, the API serves', async () => {
    const receiver = await start('receiver');
    const api = await start('api');
    expect(receiver.ports).toEqual({ otlpHttp: expect.any(Number), otlpGrpc: expect.any(Number), api: null });
    expect(api.ports).toEqual({ otlpHttp: null, otlpGrpc: null, api: expect.any(Number) });
    expect(receiver.apps.api).toBeNull();
    expect(api.apps.receiver).toBeNull();
    const keys = receiver.bootstrapped!;
    expect(api.bootstrapped).toBeNull();

    const spans = recordAgentRun(recordingTracer());
    const otlpUrl = `http://127.0.0.1:${receiver.ports.otlpHttp}`;
    expect(await exportSpans(otlpExporter('proto', otlpUrl, keys.ingestKey.key), spans)).toBe(0);
    const apiUrl = `http://127.0.0.1:${api.ports.api}`;
    const runs = await fetch(`${apiUrl}/v1/runs?trace_id=${spans[0]!.spanContext().traceId}`, {
      headers: { authorization: `Bearer ${keys.adminKey.key}` },
    });
    expect(await runs.json()).toMatchObject({ data: [{ step_count: 5 }] });

    // Each serves its own health and metrics; only the receiver counts spans.
    for (const base of [otlpUrl, apiUrl]) expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect(sample(await scrape(otlpUrl), 'agentrace_spans_accepted_total')).toBe(5);
    const apiMetrics = await scrape(apiUrl);
    expect(apiMetrics).not.toContain('agentrace_spans_accepted_total');
    expect(sample(apiMetrics, 'agentrace_db_up')).toBe(1);
  });
});

describe('agentrace serve as a process', () => {
  const run = (args: string[], env: Record<string, string>) =>
    spawn(process.execPath, ['cli/bin/agentrace.mjs', ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });

  it('refuses a mode it does not know with its usage (exit 2)', async () => {
    const child = run(['serve', 'everything'], {});
    let err = '';
    child.stderr.on('data', (chunk) => {
      err += chunk;
    });
    const [code] = await once(child, 'exit');
    expect(code).toBe(2);
    expect(err).toBe('usage: agentrace serve [receiver|api]\n');
  });

  it('serve receiver prints only the receivers and logs each request as a JSON line on stderr, without the key', async () => {
    const db = await createTestDatabase();
    const ingestKey = `ingest-${randomUUID()}`;
    const child = run(['serve', 'receiver'], {
      DATABASE_URL: db.url,
      AGENTRACE_OTLP_HTTP_PORT: '0',
      AGENTRACE_OTLP_GRPC_PORT: '0',
      AGENTRACE_INGEST_KEY: ingestKey,
      AGENTRACE_LOG_LEVEL: 'info',
    });
    const stderr: string[] = [];
    createInterface({ input: child.stderr }).on('line', (line) => stderr.push(line));
    const stdout: string[] = [];
    try {
      const otlpUrl = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).on('line', (line) => {
          stdout.push(line);
          const url = /OTLP\/HTTP receiver: (http:\S+)\/v1\/traces/.exec(line)?.[1];
          if (url) resolve(url);
        });
        child.once('exit', () => reject(new Error(`exited early: ${stderr.join('\n')}`)));
      });
      const res = await fetch(`${otlpUrl}/v1/traces`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${ingestKey}`,
          'content-type': 'application/json',
          'x-request-id': 'e2e-1',
        },
        body: JSON.stringify(otlpRequest(2).body),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-request-id')).toBe('e2e-1');
      await expect.poll(() => stderr.some((l) => l.includes('"e2e-1"'))).toBe(true);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
      await db.drop();
    }
    expect(stdout.some((l) => l.includes('OTLP/gRPC receiver:'))).toBe(true);
    expect(stdout.some((l) => l.includes('Query API'))).toBe(false);
    const lines = stderr.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.requestId === 'e2e-1')).toMatchObject({
      msg: 'request',
      app: 'receiver',
      method: 'POST',
      route: '/v1/traces',
      status: 200,
    });
    expect(lines.find((l) => l.msg === 'agentrace listening')).toMatchObject({ mode: 'receiver', api: null });
    expect(stderr.join('\n')).not.toContain(ingestKey);
  }, 60_000);
});
