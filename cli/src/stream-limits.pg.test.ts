import { type IncomingMessage, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createQueryApp, StreamHub } from '@agentrace/query-api';
import { ErrorEnvelope, Run, Step } from '@agentrace/schemas';
import { createPool, pruneStreamEvents } from '@agentrace/store';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SseReader } from './testing/sse-reader.ts';
import { startTestServer, type TestServer } from './testing/test-server.ts';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ AGENTRACE_STREAM_CLIENT_BUFFER_KB: '256' });
});
afterAll(async () => {
  await s?.close();
});

async function post(path: string, body: unknown) {
  const res = await fetch(s.otlpUrl + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${s.ingestKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  expect(res.status, text).toBeLessThan(300);
  return JSON.parse(text) as Record<string, unknown>;
}
const createRun = async (name: string) => Run.parse(await post('/v1/runs', { name }));
const postSteps = (runId: string, count: number, payloadBytes: number) =>
  post(`/v1/runs/${runId}/steps`, {
    steps: Array.from({ length: count }, (_, i) => ({
      type: 'thought',
      name: `s${i}`,
      schema_version: 1,
      ts: '2026-03-01T10:00:00.000Z',
      payload: { output: { text: 'x'.repeat(payloadBytes) } },
    })),
  });
const auth = () => ({ authorization: `Bearer ${s.adminKey}` });

describe('a slow client', () => {
  it('is cut off with a final slow_consumer event while ingest and the other subscribers go on', async () => {
    const run = await createRun('firehose');
    const query = `/v1/stream?run_id=${run.run_id}&types=step.created`;
    // A client that stops reading: its socket fills, then the server's buffer for it.
    const slow = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(`${s.apiUrl}${query}`, { headers: auth() }, resolve);
      req.on('error', reject);
      req.end();
    });
    slow.pause();
    const fast = await SseReader.open(s.apiUrl + query, auth());
    const batches = 60;
    const perBatch = 10;
    const started = Date.now();
    for (let i = 0; i < batches; i++) await postSteps(run.run_id, perBatch, 20_000);
    const ingestMs = Date.now() - started;
    // About 12 MB went to the fast client, all of it; the slow one was cut off rather than buffered.
    await fast.waitFor(batches * perBatch, 'step.created', 30_000);
    expect(fast.events.every((e) => e.event === 'step.created')).toBe(true);
    expect(ingestMs).toBeLessThan(20_000);

    // Now it reads: what had been buffered, then the final event, then the end of the stream.
    let text = '';
    slow.setEncoding('utf8');
    slow.on('data', (chunk: string) => {
      text += chunk;
    });
    slow.resume();
    await new Promise((resolve) => slow.once('close', resolve));
    const tail = text.trimEnd().split('\n\n').pop()!;
    expect(tail.split('\n')[0]).toBe('event: error');
    expect(JSON.parse(tail.split('\n')[1]!.replace(/^data: /, ''))).toMatchObject({
      error: { code: 'slow_consumer', message: expect.stringContaining('Last-Event-ID'), retryable: true },
    });
    const received = text.split('\n\n').filter((f) => f.includes('event: step.created')).length;
    expect(received).toBeLessThan(batches * perBatch);
    fast.close();

    const metrics = await (await fetch(`${s.apiUrl}/metrics`)).text();
    expect(metrics).toMatch(/^agentrace_stream_clients_cut_off_total\{reason="slow_consumer"\} 1$/m);
  });
});

describe('two API processes on one database', () => {
  it('both stream what a receiver writes', async () => {
    const pool = createPool(s.db.url, 4);
    const hub = new StreamHub(pool);
    const server = createQueryApp({ pool, logger: pino({ level: 'silent' }), stream: { hub } }).listen(
      0,
      '127.0.0.1',
    );
    await new Promise((resolve) => server.once('listening', resolve));
    const second = { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
    try {
      const run = await createRun('shared');
      const query = `/v1/stream?run_id=${run.run_id}`;
      const [a, b] = await Promise.all([
        SseReader.open(s.apiUrl + query, auth()),
        SseReader.open(second.base + query, auth()),
      ]);
      await postSteps(run.run_id, 3, 10);
      const [fromA, fromB] = await Promise.all([a.waitFor(4), b.waitFor(4)]);
      expect(fromB).toEqual(fromA);
      expect(
        fromA.filter((e) => e.event === 'step.created').map((e) => Step.parse(JSON.parse(e.data)).name),
      ).toEqual(['s0', 's1', 's2']);
      // An id from one process resumes on the other.
      const resumed = await SseReader.open(second.base + query, {
        ...auth(),
        'last-event-id': fromA[0]!.id!,
      });
      expect(await resumed.waitFor(3)).toEqual(fromA.slice(1));
      for (const r of [a, resumed]) r.close();
      // A process that shuts down ends its streams with a final event; the clients resume elsewhere.
      await hub.close();
      await b.ended;
      expect(b.events.at(-1)?.event).toBe('error');
      expect(JSON.parse(b.events.at(-1)!.data)).toMatchObject({
        error: { code: 'unavailable', retryable: true },
      });
    } finally {
      await hub.close();
      await new Promise((resolve) => server.close(resolve));
      await pool.end();
    }
  });
});

describe('a lost database connection', () => {
  it('ends the streams with a final unavailable event; the next subscriber gets a new connection and misses nothing', async () => {
    const run = await createRun('connection lost');
    const query = `/v1/stream?run_id=${run.run_id}`;
    const before = await SseReader.open(s.apiUrl + query, auth());
    await postSteps(run.run_id, 1, 10);
    const seen = await before.waitFor(2);
    const killed = await s.db.pool.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'agentrace live stream' AND datname = current_database()",
    );
    expect(killed.rowCount).toBe(1);
    await before.ended;
    expect(before.events.at(-1)?.event).toBe('error');
    expect(JSON.parse(before.events.at(-1)!.data)).toMatchObject({ error: { code: 'unavailable' } });
    // Committed while nobody listened; the client resumes after what it saw.
    await postSteps(run.run_id, 1, 10);
    const after = await SseReader.open(s.apiUrl + query, { ...auth(), 'last-event-id': seen[1]!.id! });
    expect((await after.waitFor(2)).map((e) => e.event)).toEqual(['step.created', 'run.updated']);
    await postSteps(run.run_id, 1, 10);
    await after.waitFor(4);
    after.close();
  });
});

describe('pruning', () => {
  it('deletes old events; a resume from before what was pruned is refused, from after it is not', async () => {
    const run = await createRun('pruned');
    const query = `/v1/stream?run_id=${run.run_id}`;
    const sub = await SseReader.open(s.apiUrl + query, auth());
    await postSteps(run.run_id, 2, 10);
    const events = await sub.waitFor(3);
    sub.close();
    expect(await pruneStreamEvents(s.db.pool, new Date(Date.now() + 60_000), 2)).toBeGreaterThanOrEqual(3);
    expect((await s.db.pool.query('SELECT count(*)::int AS n FROM stream_event')).rows[0].n).toBe(0);

    const old = await fetch(s.apiUrl + query, { headers: { ...auth(), 'last-event-id': events[0]!.id! } });
    expect(old.status).toBe(400);
    expect(ErrorEnvelope.parse(await old.json()).error.details).toHaveProperty('last_event_id');
    const fresh = await SseReader.open(s.apiUrl + query, { ...auth(), 'last-event-id': events[2]!.id! });
    expect(fresh.status).toBe(200);
    await postSteps(run.run_id, 1, 10);
    expect((await fresh.waitFor(2)).map((e) => e.event)).toEqual(['step.created', 'run.updated']);
    fresh.close();
  });
});
