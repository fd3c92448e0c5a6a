import { randomUUID } from 'node:crypto';
import { Approval, DecisionResult, ErrorEnvelope, listOf, Run, Step } from '@agentrace/schemas';
import { createKey, createTenant, type NewTenant, recordStreamEvents } from '@agentrace/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportSpans, otlpExporter, recordingTracer } from './testing/otel-client.ts';
import { type SseEvent, SseReader } from './testing/sse-reader.ts';
import { startTestServer, type TestServer } from './testing/test-server.ts';

const StepList = listOf(Step);

let s: TestServer;
let other: NewTenant;
beforeAll(async () => {
  s = await startTestServer({ AGENTRACE_STREAM_HEARTBEAT_S: '0.1' });
  other = await createTenant(s.db.pool, 'other-tenant');
});
afterAll(async () => {
  await s?.close();
});

const open: SseReader[] = [];
/** Subscribes to the stream with `query` (and the admin key unless another is given). */
async function subscribe(
  query = '',
  headers: Record<string, string> = {},
  base = s.apiUrl,
): Promise<SseReader> {
  const reader = await SseReader.open(`${base}/v1/stream${query}`, {
    authorization: `Bearer ${s.adminKey}`,
    ...headers,
  });
  open.push(reader);
  return reader;
}
afterAll(() => {
  for (const r of open) r.close();
});

async function post(path: string, body: unknown, key = s.ingestKey) {
  const res = await fetch(s.otlpUrl + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  expect(res.status, text).toBeLessThan(300);
  return JSON.parse(text) as Record<string, unknown>;
}
const createRun = async (name = 'streamed', key = s.ingestKey) =>
  Run.parse(await post('/v1/runs', { name }, key));
const step = (name: string, payload: unknown = { output: { text: name } }) => ({
  type: 'thought',
  name,
  schema_version: 1,
  ts: '2026-03-01T10:00:00.000Z',
  payload,
});
const postSteps = (runId: string, names: string[], key = s.ingestKey) =>
  post(`/v1/runs/${runId}/steps`, { steps: names.map((n) => step(n)) }, key);
const names = (events: SseEvent[]) => events.map((e) => (JSON.parse(e.data) as { name: string }).name);

describe('GET /v1/stream', () => {
  it('streams the steps and run changes of OTLP spans with the JSON of the query API', async () => {
    const sub = await subscribe();
    expect(sub.status).toBe(200);
    expect(sub.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const tracer = recordingTracer('streamed-agent');
    const root = tracer.start('invoke_agent streamed');
    const child = tracer.start(
      'execute_tool search',
      { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'search' },
      root,
    );
    child.end();
    root.end();
    const traceId = root.spanContext().traceId;
    expect(
      await exportSpans(otlpExporter('proto', s.otlpUrl, s.ingestKey), tracer.memory.getFinishedSpans()),
    ).toBe(0);

    const stepEvents = await sub.waitFor(2, 'step.created');
    const [runEvent] = await sub.waitFor(1, 'run.updated');
    const run = Run.parse(JSON.parse(runEvent!.data));
    expect(run.trace_id).toBe(traceId);
    expect(run).toEqual((await s.api(`/v1/runs/${run.run_id}`)).body);
    const stored = StepList.parse((await s.api(`/v1/runs/${run.run_id}/steps`)).body).data;
    expect(stepEvents.map((e) => JSON.parse(e.data))).toEqual(stored);
    // Ids are resumable cursors, increasing.
    expect(new Set(sub.events.map((e) => e.id)).size).toBe(sub.events.length);
  });

  it('streams native REST runs: declared, each step, finished', async () => {
    const sub = await subscribe();
    const run = await createRun('native');
    await postSteps(run.run_id, ['one', 'two']);
    await post(`/v1/runs/${run.run_id}:finish`, { status: 'succeeded' });
    await sub.waitFor(2, 'step.created');
    const runs = (await sub.waitFor(3, 'run.updated')).map((e) => Run.parse(JSON.parse(e.data)));
    // A run event carries the run as it is when sent: a change committed meanwhile already shows.
    expect(runs[0]!.step_count).toBeLessThanOrEqual(2);
    expect(runs[1]!.step_count).toBe(2);
    expect(runs[2]).toEqual((await s.api(`/v1/runs/${run.run_id}`)).body);
    expect(runs[2]!.status).toBe('succeeded');
    expect(names(sub.events.filter((e) => e.event === 'step.created'))).toEqual(['one', 'two']);
    // In commit order: the declaration, the steps with their run, the finish.
    expect(sub.events.map((e) => e.event)).toEqual([
      'run.updated',
      'step.created',
      'step.created',
      'run.updated',
      'run.updated',
    ]);
  });

  it('filters by run, trace, project and event type', async () => {
    const a = await createRun('a');
    const b = await createRun('b');
    const byRun = await subscribe(`?run_id=${a.run_id}`);
    const onlyRuns = await subscribe(`?run_id=${a.run_id}&types=run.updated`);
    const otherProject = await subscribe(`?project_id=${randomUUID()}`);
    const ownProject = await subscribe(`?project_id=${s.projectId}&types=step.created,step.created`);
    const tracer = recordingTracer();
    const root = tracer.start('invoke_agent traced');
    root.end();
    const byTrace = await subscribe(`?trace_id=${root.spanContext().traceId.toUpperCase()}`);
    await postSteps(b.run_id, ['b1']);
    await postSteps(a.run_id, ['a1']);
    expect(
      await exportSpans(otlpExporter('proto', s.otlpUrl, s.ingestKey), tracer.memory.getFinishedSpans()),
    ).toBe(0);

    await byRun.waitFor(2);
    await onlyRuns.waitFor(1);
    await ownProject.waitFor(3);
    await byTrace.waitFor(2);
    await new Promise((r) => setTimeout(r, 300));
    expect(byRun.events.map((e) => e.event)).toEqual(['step.created', 'run.updated']);
    expect(names(byRun.events.slice(0, 1))).toEqual(['a1']);
    expect(onlyRuns.events.map((e) => Run.parse(JSON.parse(e.data)).run_id)).toEqual([a.run_id]);
    expect(names(ownProject.events)).toEqual(['b1', 'a1', 'invoke_agent traced']);
    expect(byTrace.events.map((e) => e.event)).toEqual(['step.created', 'run.updated']);
    expect(otherProject.events).toEqual([]);
  });

  it('shows a tenant only its own events, and refuses ingest keys', async () => {
    const mine = await subscribe();
    const theirs = await subscribe('', { authorization: `Bearer ${other.adminKey.key}` });
    const viewer = await createKey(s.db.pool, { tenantId: s.tenantId, kind: 'user', role: 'viewer' });
    const asViewer = await subscribe('', { authorization: `Bearer ${viewer.key}` });
    const run = await createRun('private');
    await postSteps(run.run_id, ['secret']);
    const theirRun = await createRun('theirs', other.ingestKey.key);
    await mine.waitFor(3);
    await asViewer.waitFor(3);
    await theirs.waitFor(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(theirs.events.map((e) => Run.parse(JSON.parse(e.data)).run_id)).toEqual([theirRun.run_id]);
    expect(mine.events.some((e) => e.data.includes(theirRun.run_id))).toBe(false);

    for (const key of [s.ingestKey]) {
      const res = await fetch(`${s.apiUrl}/v1/stream`, { headers: { authorization: `Bearer ${key}` } });
      expect(res.status).toBe(403);
      expect(ErrorEnvelope.parse(await res.json()).error.code).toBe('permission_denied');
    }
    expect((await fetch(`${s.apiUrl}/v1/stream`)).status).toBe(401);
  });

  it.each([
    ['?types=step.created,run.deleted', 'types'],
    ['?types=', 'types'],
    ['?run_id=not-a-uuid', 'run_id'],
    ['?trace_id=xyz', 'trace_id'],
    ['?follow=true', 'follow'],
    ['?last_event_id=yesterday', 'last_event_id'],
  ])('refuses %s with a 400 naming %s', async (query, field) => {
    const res = await fetch(`${s.apiUrl}/v1/stream${query}`, {
      headers: { authorization: `Bearer ${s.adminKey}` },
    });
    expect(res.status).toBe(400);
    const body = ErrorEnvelope.parse(await res.json());
    expect(body.error.code).toBe('invalid_argument');
    expect(Object.keys(body.error.details ?? {})).toContain(field);
  });

  it('refuses a Last-Event-ID header that is not one of its ids', async () => {
    const res = await fetch(`${s.apiUrl}/v1/stream`, {
      headers: { authorization: `Bearer ${s.adminKey}`, 'last-event-id': 'abc' },
    });
    expect(res.status).toBe(400);
    expect(ErrorEnvelope.parse(await res.json()).error.details).toHaveProperty('last_event_id');
  });

  it('lets a client subscribe to a run before it has data; events flow once it does', async () => {
    const tracer = recordingTracer();
    const root = tracer.start('invoke_agent later', { 'agentrace.run.id': randomUUID() });
    root.end();
    const runId =
      root.spanContext().traceId &&
      String(tracer.memory.getFinishedSpans()[0]!.attributes['agentrace.run.id']);
    const sub = await subscribe(`?run_id=${runId}`);
    await new Promise((r) => setTimeout(r, 200));
    expect(sub.events).toEqual([]);
    expect(
      await exportSpans(otlpExporter('json', s.otlpUrl, s.ingestKey), tracer.memory.getFinishedSpans()),
    ).toBe(0);
    const [created] = await sub.waitFor(1, 'step.created');
    expect(Step.parse(JSON.parse(created!.data)).run_id).toBe(runId);
  });

  it('sends heartbeat comments while idle', async () => {
    const sub = await subscribe(`?run_id=${randomUUID()}`);
    await new Promise((r) => setTimeout(r, 450));
    expect(sub.comments.filter((c) => c === 'heartbeat').length).toBeGreaterThanOrEqual(2);
    expect(sub.events).toEqual([]);
  });

  it('resumes after Last-Event-ID with no gap and no duplicate, including events committed while away', async () => {
    const run = await createRun('resumed');
    const first = await subscribe(`?run_id=${run.run_id}&types=step.created`);
    await postSteps(run.run_id, ['s1', 's2', 's3']);
    const seen = await first.waitFor(3);
    first.close();
    // While away: more steps, in several commits.
    await postSteps(run.run_id, ['s4', 's5']);
    await postSteps(run.run_id, ['s6']);
    const resumed = await subscribe(`?run_id=${run.run_id}&types=step.created`, {
      'last-event-id': seen[1]!.id!,
    });
    const back = await resumed.waitFor(4);
    expect(names(back)).toEqual(['s3', 's4', 's5', 's6']);
    expect(back[0]).toEqual(seen[2]);
    // Then live, still once each.
    await postSteps(run.run_id, ['s7']);
    await resumed.waitFor(5);
    await new Promise((r) => setTimeout(r, 200));
    expect(names(resumed.events)).toEqual(['s3', 's4', 's5', 's6', 's7']);
    // The query equivalent of the header.
    const byQuery = await subscribe(`?run_id=${run.run_id}&types=step.created&last_event_id=${seen[2]!.id}`);
    expect(names(await byQuery.waitFor(4))).toEqual(['s4', 's5', 's6', 's7']);
  });

  it('resumes under continuous ingest with every event exactly once', async () => {
    const run = await createRun('busy');
    let writing = true;
    let written = 0;
    const writer = (async () => {
      while (writing) await postSteps(run.run_id, [`w${++written}`]);
    })();
    const query = `?run_id=${run.run_id}&types=step.created`;
    const collected: SseEvent[] = [];
    let last: string | null = null;
    for (let round = 0; round < 5; round++) {
      const sub = await subscribe(query, last ? { 'last-event-id': last } : {});
      await sub.waitFor(collected.length === 0 ? 3 : 2);
      sub.close();
      await new Promise((r) => setTimeout(r, 30));
      // Only what the client had fully received counts; a reconnect resumes after it.
      collected.push(...sub.events);
      last = sub.events[sub.events.length - 1]!.id;
    }
    writing = false;
    await writer;
    const tail = await subscribe(query, { 'last-event-id': last! });
    const steps = StepList.parse((await s.api(`/v1/runs/${run.run_id}/steps?limit=1000`)).body).data;
    const firstSeq = Step.parse(JSON.parse(collected[0]!.data)).seq;
    const expectedCount = steps.length - firstSeq + 1;
    await tail.waitFor(expectedCount - collected.length);
    const all = [...collected, ...tail.events].map((e) => Step.parse(JSON.parse(e.data)).seq);
    expect(all).toEqual(steps.filter((x) => x.seq >= firstSeq).map((x) => x.seq));
  });

  it('never lets a commit that lands out of id order slip past a cursor', async () => {
    const [a, b] = [await createRun('first-id'), await createRun('second-id')];
    const sub = await subscribe(`?types=run.updated&project_id=${s.projectId}`);
    const event = (run: Run) => ({
      tenantId: s.tenantId,
      projectId: s.projectId,
      runId: run.run_id,
      traceId: null,
      type: 'run.updated' as const,
      objectId: run.run_id,
    });
    // A takes its id first but commits last.
    const txA = await s.db.pool.connect();
    const txB = await s.db.pool.connect();
    let got: Awaited<ReturnType<typeof sub.waitFor>>;
    try {
      await txA.query('BEGIN');
      await recordStreamEvents(txA, [event(a)]);
      await txB.query('BEGIN');
      await recordStreamEvents(txB, [event(b)]);
      await txB.query('COMMIT');
      // B is delivered at its commit: the log is in commit order, A still running does not hold it back.
      expect((await sub.waitFor(1)).map((e) => Run.parse(JSON.parse(e.data)).run_id)).toEqual([b.run_id]);
      await txA.query('COMMIT');
      got = await sub.waitFor(2);
    } finally {
      txA.release();
      txB.release();
    }
    expect(got.map((e) => Run.parse(JSON.parse(e.data)).run_id)).toEqual([b.run_id, a.run_id]);
    // A reconnect after B's id gets A (a cursor on ids alone would have skipped A: its id is lower).
    const resumed = await subscribe(`?types=run.updated&project_id=${s.projectId}`, {
      'last-event-id': got[0]!.id!,
    });
    expect((await resumed.waitFor(1))[0]).toEqual(got[1]);
  });

  it('delivers every event of concurrent out-of-order commits exactly once, to live and resuming clients', async () => {
    const runs = await Promise.all(Array.from({ length: 12 }, (_, i) => createRun(`race-${i}`)));
    const query = `?types=run.updated&project_id=${s.projectId}`;
    const live = await subscribe(query);
    // Each transaction takes its ids at once and commits after a random delay: commit order != id order.
    await Promise.all(
      runs.map(async (run) => {
        const tx = await s.db.pool.connect();
        try {
          await tx.query('BEGIN');
          await recordStreamEvents(tx, [
            {
              tenantId: s.tenantId,
              projectId: s.projectId,
              runId: run.run_id,
              traceId: null,
              type: 'run.updated',
              objectId: run.run_id,
            },
          ]);
          await new Promise((r) => setTimeout(r, Math.random() * 300));
          await tx.query('COMMIT');
        } finally {
          tx.release();
        }
      }),
    );
    const got = await live.waitFor(12);
    await new Promise((r) => setTimeout(r, 200));
    expect(live.events.length).toBe(12);
    expect(new Set(got.map((e) => Run.parse(JSON.parse(e.data)).run_id))).toEqual(
      new Set(runs.map((r) => r.run_id)),
    );
    // Resuming from any event gives exactly the rest.
    const from = 5;
    const resumed = await subscribe(query, { 'last-event-id': got[from]!.id! });
    expect(await resumed.waitFor(12 - from - 1)).toEqual(got.slice(from + 1));
  });

  it('streams approval.updated when an approval is requested and decided', async () => {
    const policy = await s.api<{ policy_id: string }>('/v1/policies', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        project_id: s.projectId,
        document: {
          default: 'allow',
          rules: [{ id: 'mail', tool: 'send_email', effect: 'require_approval' }],
        },
      }),
    });
    expect((await s.api(`/v1/policies/${policy.body.policy_id}:activate`, { method: 'POST' })).status).toBe(
      200,
    );
    const run = await createRun('gated');
    const sub = await subscribe(`?run_id=${run.run_id}&types=approval.updated`);
    const decided = await s.api('/v1/decisions', {
      method: 'POST',
      key: s.ingestKey,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ run_id: run.run_id, tool_name: 'send_email', args: { to: 'a@b.c' } }),
    });
    const { approval_id } = DecisionResult.parse(decided.body);
    const viewerOfApprovals = await createKey(s.db.pool, {
      tenantId: s.tenantId,
      kind: 'user',
      role: 'approver',
    });
    const approved = await s.api(`/v1/approvals/${approval_id}:approve`, {
      method: 'POST',
      key: viewerOfApprovals.key,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ comment: 'ok' }),
    });
    expect(approved.status).toBe(200);
    const events = (await sub.waitFor(2)).map((e) => Approval.parse(JSON.parse(e.data)));
    expect(events.map((a) => [a.approval_id, a.status])).toEqual([
      [approval_id, 'pending'],
      [approval_id, 'approved'],
    ]);
    expect(events[1]).toEqual((await s.api(`/v1/approvals/${approval_id}`)).body);
  });

  it('counts its subscribers in agentrace_stream_subscribers', async () => {
    const gauge = async () => {
      const text = await (await fetch(`${s.apiUrl}/metrics`)).text();
      return Number(/^agentrace_stream_subscribers (\d+)$/m.exec(text)?.[1]);
    };
    for (const r of open) r.close();
    await expect.poll(gauge).toBe(0);
    const a = await subscribe();
    await subscribe();
    await expect.poll(gauge).toBe(2);
    a.close();
    await expect.poll(gauge).toBe(1);
  });
});
