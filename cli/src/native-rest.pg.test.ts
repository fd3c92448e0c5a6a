import { randomUUID } from 'node:crypto';
import {
  AssignedSteps,
  canonicalJson,
  ErrorEnvelope,
  Invocation,
  listOf,
  Run,
  Step,
  sha256Tagged,
} from '@agentrace/schemas';
import { createKey, createTenant, type NewTenant } from '@agentrace/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportSpans, otlpExporter, recordAgentRun, recordingTracer } from './testing/otel-client.ts';
import { startTestServer, type TestServer } from './testing/test-server.ts';

const RunList = listOf(Run);
const StepList = listOf(Step);
const InvocationList = listOf(Invocation);
// Small, so that a too-large body is cheap to send; OTLP exports of a few spans stay well below it.
const MAX_BODY_BYTES = 64 * 1024;

let s: TestServer;
let other: NewTenant;
beforeAll(async () => {
  s = await startTestServer({ AGENTRACE_MAX_BODY_BYTES: String(MAX_BODY_BYTES) });
  other = await createTenant(s.db.pool, 'someone-else');
});
afterAll(async () => {
  await s?.close();
});

/** POSTs to the receiver's native REST endpoints; `body` is sent as is when it is a string. */
async function post(path: string, body: unknown, key: string | null = s.ingestKey) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const res = await fetch(s.otlpUrl + path, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null, headers: res.headers };
}

async function createRun(body: Record<string, unknown> = {}, key?: string): Promise<Run> {
  const res = await post('/v1/runs', { name: 'native run', ...body }, key);
  expect(res.status).toBe(201);
  return Run.parse(res.body);
}

async function postSteps(runId: string, steps: unknown[], key?: string) {
  const res = await post(`/v1/runs/${runId}/steps`, { steps }, key);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return AssignedSteps.parse(res.body);
}

const getRun = async (runId: string) => Run.parse((await s.api(`/v1/runs/${runId}`)).body);
const getSteps = async (runId: string) => StepList.parse((await s.api(`/v1/runs/${runId}/steps`)).body).data;
const errorOf = (body: unknown) => ErrorEnvelope.parse(body).error;

const step = (overrides: Record<string, unknown> = {}) => ({
  type: 'thought',
  name: 'think',
  schema_version: 1,
  ts: '2026-03-01T10:00:00.000Z',
  payload: { output: { text: 'hmm' } },
  ...overrides,
});

describe('POST /v1/runs', () => {
  it('creates a running run of the key\'s project, with its name, tags, parent and start', async () => {
    const parent = randomUUID();
    const res = await post('/v1/runs', {
      name: 'nightly eval',
      tags: { env: 'prod', team: 'search' },
      parent_run_id: parent,
      started_at: '2026-03-01T10:00:00.123+02:00',
    });
    expect(res.status).toBe(201);
    const run = Run.parse(res.body);
    expect(run).toMatchObject({
      project_id: s.projectId,
      name: 'nightly eval',
      status: 'running',
      started_at: '2026-03-01T08:00:00.123Z',
      finished_at: null,
      duration_ms: null,
      trace_id: null,
      parent_run_id: parent,
      tags: { env: 'prod', team: 'search' },
      step_count: 0,
      cost_usd: null,
    });
    expect(await getRun(run.run_id)).toEqual(run);
  });

  it('creates a new run each time when no trace_id is given', async () => {
    const a = await createRun({ name: 'same name' });
    const b = await createRun({ name: 'same name' });
    expect(a.run_id).not.toBe(b.run_id);
  });

  it('answers a repeated declaration of a trace\'s run with that run (200), and 409 under another name', async () => {
    const traceId = randomUUID().replaceAll('-', '');
    const first = await createRun({ name: 'traced', trace_id: traceId.toUpperCase() });
    expect(first.trace_id).toBe(traceId);
    const again = await post('/v1/runs', { name: 'traced', trace_id: traceId });
    expect(again.status).toBe(200);
    expect(Run.parse(again.body)).toEqual(first);
    const renamed = await post('/v1/runs', { name: 'something else', trace_id: traceId });
    expect(renamed.status).toBe(409);
    expect(errorOf(renamed.body)).toMatchObject({ code: 'conflict', details: { trace_id: expect.stringContaining(first.run_id) } });
  });

  it('adopts the run that spans of the trace created before: same run, now with the declared name', async () => {
    const spans = recordAgentRun(recordingTracer(), 'adopt');
    const children = spans.filter((x) => x.parentSpanContext);
    expect(await exportSpans(otlpExporter('proto', s.otlpUrl, s.ingestKey), children)).toBe(0);
    const traceId = spans[0]!.spanContext().traceId;
    const fromSpans = RunList.parse((await s.api(`/v1/runs?trace_id=${traceId}`)).body).data[0]!;

    const adopted = await createRun({ name: 'adopted', trace_id: traceId, tags: { via: 'rest' }, started_at: '2100-01-01T00:00:00Z' });
    expect(adopted).toMatchObject({
      run_id: fromSpans.run_id,
      name: 'adopted',
      status: 'running',
      step_count: 4,
      tags: { via: 'rest' },
      // The earliest step stays the start: a later declared start does not move it.
      started_at: fromSpans.started_at,
    });
    // Declared, the run is no longer ended by its root span: :finish ends it.
    const root = spans.find((x) => !x.parentSpanContext)!;
    expect(await exportSpans(otlpExporter('proto', s.otlpUrl, s.ingestKey), [root])).toBe(0);
    expect(await getRun(adopted.run_id)).toMatchObject({ name: 'adopted', status: 'running', step_count: 5 });
  });

  it.each([
    [{}, 'name'],
    [{ name: '' }, 'name'],
    [{ name: 'x', trace_id: 'abc' }, 'trace_id'],
    [{ name: 'x', trace_id: '0'.repeat(32) }, 'trace_id'],
    [{ name: 'x', parent_run_id: 'nope' }, 'parent_run_id'],
    [{ name: 'x', started_at: '2026-03-01 10:00' }, 'started_at'],
    [{ name: 'x', tags: { env: 1 } }, 'tags.env'],
    [{ name: 'x', colour: 'blue' }, 'colour'],
  ])('refuses the body %j with 400 naming %s', async (body, field) => {
    const res = await post('/v1/runs', body);
    expect(res.status).toBe(400);
    const error = errorOf(res.body);
    expect(error).toMatchObject({ code: 'invalid_argument', retryable: false });
    expect(Object.keys(error.details ?? {})).toEqual([field]);
  });
});

describe('POST /v1/runs/{run_id}/steps', () => {
  it('stores a batch in order, priced, with errors, parents and invocations, and folds it into the run', async () => {
    const run = await createRun({ name: 'agent loop' });
    const agentId = randomUUID();
    const assigned = await postSteps(run.run_id, [
      step({ step_id: agentId, type: 'agent', name: 'planner', agent_name: 'planner', duration_ms: 5000 }),
      step({
        type: 'llm',
        name: 'chat gpt-4o',
        parent_step_id: agentId,
        model_name: 'gpt-4o-2024-08-06',
        request_model: 'gpt-4o',
        provider: 'openai',
        agent_name: 'planner',
        input_tokens: 100,
        output_tokens: 20,
        ts: '2026-03-01T10:00:01.000Z',
        end_ts: '2026-03-01T10:00:01.250Z',
        payload: { input: { messages: [{ role: 'user', content: 'plan it' }] }, output: { text: 'ok' } },
      }),
      step({
        type: 'tool',
        name: 'fetch page',
        tool_name: 'fetch',
        agent_name: 'planner',
        decision_token_id: 'dt-123',
        ts: '2026-03-01T10:00:02.000Z',
        duration_ms: 40,
        error: { type: 'TimeoutError', message: 'timed out after 40ms', stack: 'TimeoutError: timed out\n    at fetch' },
        payload: { input: { url: 'https://example.com' } },
      }),
      step({ type: 'llm', name: 'chat priced by the provider', model_name: 'my-own-model', input_tokens: 5, output_tokens: 5, cost_usd: 0.5 }),
    ]);
    expect(assigned.run_id).toBe(run.run_id);
    expect(assigned.assigned.map((a) => [a.index, a.seq])).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 4],
    ]);
    expect(assigned.assigned[0]!.step_id).toBe(agentId);

    const steps = await getSteps(run.run_id);
    expect(steps.map((x) => x.step_id)).toEqual(assigned.assigned.map((a) => a.step_id));
    expect(steps[0]).toMatchObject({ type: 'agent', status: 'unset', duration_ms: 5000, end_ts: '2026-03-01T10:00:05.000Z', error: null });
    expect(steps[1]).toMatchObject({
      type: 'llm',
      parent_step_id: agentId,
      model: 'gpt-4o-2024-08-06',
      request_model: 'gpt-4o',
      provider: 'openai',
      input_tokens: 100,
      output_tokens: 20,
      duration_ms: 250,
      schema_version: 1,
      trace_id: null,
      span_id: null,
      payload: { input: { messages: [{ role: 'user', content: 'plan it' }] }, output: { text: 'ok' } },
    });
    expect(steps[1]!.cost_usd).toBeCloseTo((100 * 2.5 + 20 * 10) / 1e6, 12);
    expect(steps[2]).toMatchObject({
      type: 'tool',
      tool_name: 'fetch',
      status: 'error',
      decision_token_id: 'dt-123',
      error: { type: 'TimeoutError', message: 'timed out after 40ms', stack: 'TimeoutError: timed out\n    at fetch' },
      end_ts: '2026-03-01T10:00:02.040Z',
    });
    expect(steps[3]!.cost_usd).toBe(0.5);

    expect(await getRun(run.run_id)).toMatchObject({
      status: 'running',
      agent_name: 'planner',
      step_count: 4,
      tool_count: 1,
      error_count: 1,
      input_tokens: 105,
      output_tokens: 25,
      model_names: ['gpt-4o-2024-08-06', 'my-own-model'],
    });
    expect((await getRun(run.run_id)).cost_usd).toBeCloseTo(0.5 + (100 * 2.5 + 20 * 10) / 1e6, 12);

    const invocations = InvocationList.parse((await s.api(`/v1/invocations?run_id=${run.run_id}`)).body).data;
    const byTarget = Object.fromEntries(invocations.map((i) => [i.target, i]));
    expect(Object.keys(byTarget).sort()).toEqual(['fetch', 'gpt-4o-2024-08-06', 'my-own-model', 'planner']);
    expect(byTarget['planner']).toMatchObject({ kind: 'agent', invoker: null, latency_ms: 5000 });
    expect(byTarget['gpt-4o-2024-08-06']).toMatchObject({ kind: 'model', provider: 'openai', invoker: 'planner', input_tokens: 100 });
    expect(byTarget['fetch']).toMatchObject({
      kind: 'tool',
      success: false,
      error_type: 'TimeoutError',
      error_message: 'timed out after 40ms',
      invoker: 'planner',
      latency_ms: 40,
    });
    expect(byTarget['my-own-model']!.estimated_cost_usd).toBe(0.5);
  });

  it('stores a retried batch once: steps with a step_id answer with their first seq, nothing counts twice', async () => {
    const run = await createRun();
    const batch = [step({ step_id: randomUUID(), name: 'a' }), step({ step_id: randomUUID(), type: 'tool', name: 'b' })];
    const first = await postSteps(run.run_id, batch);
    const before = await getRun(run.run_id);
    const retried = await postSteps(run.run_id, batch);
    expect(retried).toEqual(first);
    expect(await getRun(run.run_id)).toEqual(before);

    // A batch of one old and one new step: the old keeps its seq, the new one gets the next.
    const mixed = await postSteps(run.run_id, [step({ step_id: randomUUID(), name: 'c' }), batch[1]]);
    expect(mixed.assigned.map((a) => a.seq)).toEqual([3, 2]);
    expect((await getSteps(run.run_id)).map((x) => [x.seq, x.name])).toEqual([
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
    ]);
    expect(await getRun(run.run_id)).toMatchObject({ step_count: 3, tool_count: 1 });
  });

  it('refuses a step_id that a step of another run has (409), writing nothing of the batch', async () => {
    const a = await createRun();
    const b = await createRun();
    const taken = randomUUID();
    await postSteps(a.run_id, [step({ step_id: taken })]);
    const res = await post(`/v1/runs/${b.run_id}/steps`, { steps: [step({ name: 'fine' }), step({ step_id: taken })] });
    expect(res.status).toBe(409);
    expect(errorOf(res.body)).toMatchObject({ code: 'conflict', details: { 'steps[1].step_id': expect.any(String) } });
    expect(await getSteps(b.run_id)).toEqual([]);
  });

  const valid = step();
  it.each([
    ['an unknown field', { ...valid, colour: 'blue' }, 'steps[1].colour'],
    ['no schema_version', { ...valid, schema_version: undefined }, 'steps[1].schema_version'],
    ['schema_version 2', { ...valid, schema_version: 2 }, 'steps[1].schema_version'],
    ['an unknown type', { ...valid, type: 'dance' }, 'steps[1].type'],
    ['no name', { ...valid, name: undefined }, 'steps[1].name'],
    ['a ts without offset', { ...valid, ts: '2026-03-01T10:00:00' }, 'steps[1].ts'],
    ['an end before the start', { ...valid, end_ts: '2026-03-01T09:59:59Z' }, 'steps[1].end_ts'],
    ['an error on an ok step', { ...valid, status: 'ok', error: { type: 'E', message: 'm' } }, 'steps[1].status'],
    ['an error without type', { ...valid, error: { message: 'm' } }, 'steps[1].error.type'],
    ['negative tokens', { ...valid, input_tokens: -1 }, 'steps[1].input_tokens'],
    ['fractional tokens', { ...valid, output_tokens: 1.5 }, 'steps[1].output_tokens'],
    ['a payload that is not an object', { ...valid, payload: 'text' }, 'steps[1].payload'],
    ['a malformed parent_step_id', { ...valid, parent_step_id: '42' }, 'steps[1].parent_step_id'],
    ['a step that is not an object', 7, 'steps[1]'],
  ])('rejects the whole batch when one step has %s, naming the field', async (_, bad, field) => {
    const run = await createRun();
    const res = await post(`/v1/runs/${run.run_id}/steps`, { steps: [step({ name: 'valid' }), bad] });
    expect(res.status).toBe(400);
    const error = errorOf(res.body);
    expect(error.code).toBe('invalid_argument');
    expect(Object.keys(error.details ?? {})).toEqual([field]);
    expect(await getSteps(run.run_id)).toEqual([]);
  });

  it('names every invalid step of a batch, and a step_id repeated inside it', async () => {
    const run = await createRun();
    const id = randomUUID();
    const res = await post(`/v1/runs/${run.run_id}/steps`, {
      steps: [step({ step_id: id }), step({ type: 'x' }), step({ step_id: id }), step({ ts: 'yesterday' })],
    });
    expect(res.status).toBe(400);
    expect(errorOf(res.body).details).toEqual({
      'steps[1].type': expect.any(String),
      'steps[2].step_id': 'repeats steps[0].step_id',
      'steps[3].ts': expect.any(String),
    });
  });

  it.each([
    ['no steps array', {}, 'steps'],
    ['an empty batch', { steps: [] }, 'steps'],
    ['another top-level field', { steps: [step()], run: 1 }, 'run'],
  ])('rejects %s', async (_, body, field) => {
    const run = await createRun();
    const res = await post(`/v1/runs/${run.run_id}/steps`, body);
    expect(res.status).toBe(400);
    expect(Object.keys(errorOf(res.body).details ?? {})).toEqual([field]);
  });

  it('redacts secrets in the payload and the error before they are stored', async () => {
    const run = await createRun();
    const openaiKey = `sk-proj-${'A1b2C3d4'.repeat(4)}`;
    const [assigned] = (
      await postSteps(run.run_id, [
        step({
          type: 'tool',
          name: 'call api',
          payload: {
            input: { headers: { authorization: 'Bearer abcdefgh12345678', accept: 'json' }, note: `use ${openaiKey} here` },
            output: { password: 'hunter2-hunter2' },
          },
          error: { type: 'AuthError', message: `rejected key ${openaiKey}` },
        }),
      ])
    ).assigned;
    const { rows } = await s.db.pool.query<{ stored: string; payload: unknown; payload_hash: string; redaction_meta: { paths: string[] } }>(
      `SELECT row_to_json(step)::text AS stored, payload, payload_hash, redaction_meta FROM step WHERE id = $1`,
      [assigned!.step_id],
    );
    const row = rows[0]!;
    for (const secret of [openaiKey, 'abcdefgh12345678', 'hunter2-hunter2']) expect(row.stored).not.toContain(secret);
    expect(row.payload).toMatchObject({
      input: { headers: { authorization: '[REDACTED:denylist.key]', accept: 'json' }, note: 'use [REDACTED:pattern.openai_key] here' },
      output: { password: '[REDACTED:denylist.key]' },
    });
    expect(row.redaction_meta.paths.sort()).toEqual(
      ['$.error.message', '$.input.headers.authorization', '$.input.note', '$.output.password'].sort(),
    );
    // The hash is over the stored (redacted) payload's canonical JSON, as for spans.
    const stored = (await getSteps(run.run_id))[0]!;
    expect(stored.error?.message).toBe('rejected key [REDACTED:pattern.openai_key]');
    expect(row.payload_hash).toBe(stored.payload_hash);
    expect(stored.payload_hash).toBe(sha256Tagged(canonicalJson(stored.payload)));
  });
});

describe('REST steps and OTLP spans of one run', () => {
  it('share one gap-free seq order in arrival order, in the run of the trace', async () => {
    const spans = recordAgentRun(recordingTracer(), 'mixed');
    const traceId = spans[0]!.spanContext().traceId;
    const run = await createRun({ name: 'mixed run', trace_id: traceId });

    const before = await postSteps(run.run_id, [step({ name: 'rest 1' }), step({ name: 'rest 2' })]);
    expect(await exportSpans(otlpExporter('proto', s.otlpUrl, s.ingestKey), spans)).toBe(0);
    const after = await postSteps(run.run_id, [step({ name: 'rest 3', type: 'tool', tool_name: 'search' })]);
    expect(before.assigned.map((a) => a.seq)).toEqual([1, 2]);
    expect(after.assigned.map((a) => a.seq)).toEqual([8]);

    const runs = RunList.parse((await s.api(`/v1/runs?trace_id=${traceId}`)).body).data;
    expect(runs.map((r) => r.run_id)).toEqual([run.run_id]);
    const steps = await getSteps(run.run_id);
    expect(steps.map((x) => x.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(steps.slice(2, 7).map((x) => x.name).sort()).toEqual(spans.map((x) => x.name).sort());
    expect([steps[0]!.name, steps[1]!.name, steps[7]!.name]).toEqual(['rest 1', 'rest 2', 'rest 3']);
    // REST steps carry the run's trace; spans keep their own span ids.
    expect(steps[0]).toMatchObject({ trace_id: traceId, span_id: null });
    expect(steps[2]!.span_id).toMatch(/^[0-9a-f]{16}$/);

    // The root span is an ordinary step of a declared run; :finish ends it.
    expect(await getRun(run.run_id)).toMatchObject({ name: 'mixed run', status: 'running', step_count: 8, tool_count: 3, error_count: 1, input_tokens: 150 });
    const finished = await post(`/v1/runs/${run.run_id}:finish`, { status: 'failed' });
    expect(finished.status).toBe(200);
    expect(Run.parse(finished.body)).toMatchObject({ status: 'failed', step_count: 8 });
  });
});

describe('POST /v1/runs/{run_id}:finish', () => {
  it('ends the run with its status, end and duration; repeating it answers the same run', async () => {
    const run = await createRun({ started_at: '2026-03-01T10:00:00Z' });
    const res = await post(`/v1/runs/${run.run_id}:finish`, { status: 'succeeded', finished_at: '2026-03-01T10:00:02.500Z' });
    expect(res.status).toBe(200);
    const finished = Run.parse(res.body);
    expect(finished).toMatchObject({ run_id: run.run_id, status: 'succeeded', finished_at: '2026-03-01T10:00:02.500Z', duration_ms: 2500 });
    const again = await post(`/v1/runs/${run.run_id}:finish`, { status: 'succeeded' });
    expect(again.status).toBe(200);
    expect(Run.parse(again.body)).toEqual(finished);
    expect(await getRun(run.run_id)).toEqual(finished);
  });

  it('is 409 when the run already finished with another status', async () => {
    const run = await createRun();
    expect((await post(`/v1/runs/${run.run_id}:finish`, { status: 'canceled' })).status).toBe(200);
    const res = await post(`/v1/runs/${run.run_id}:finish`, { status: 'succeeded' });
    expect(res.status).toBe(409);
    expect(errorOf(res.body)).toMatchObject({ code: 'conflict', retryable: false, details: { status: expect.stringContaining('canceled') } });
    expect((await getRun(run.run_id)).status).toBe('canceled');
  });

  it('defaults finished_at to now, and refuses one before the start', async () => {
    const run = await createRun();
    const early = await post(`/v1/runs/${run.run_id}:finish`, { status: 'failed', finished_at: '2000-01-01T00:00:00Z' });
    expect(early.status).toBe(400);
    expect(Object.keys(errorOf(early.body).details ?? {})).toEqual(['finished_at']);
    const now = await post(`/v1/runs/${run.run_id}:finish`, { status: 'failed' });
    const finished = Run.parse(now.body);
    expect(Date.parse(finished.finished_at!)).toBeGreaterThanOrEqual(Date.parse(run.started_at));
    expect(finished.duration_ms).toBeGreaterThanOrEqual(0);
  });

  it('ends a run that only spans created, so that a later root span no longer does', async () => {
    const spans = recordAgentRun(recordingTracer(), 'cancel');
    const root = spans.find((x) => !x.parentSpanContext)!;
    const exporter = otlpExporter('json', s.otlpUrl, s.ingestKey);
    expect(await exportSpans(exporter, spans.filter((x) => x !== root))).toBe(0);
    const run = RunList.parse((await s.api(`/v1/runs?trace_id=${root.spanContext().traceId}`)).body).data[0]!;
    expect((await post(`/v1/runs/${run.run_id}:finish`, { status: 'canceled' })).status).toBe(200);
    expect(await exportSpans(exporter, [root])).toBe(0);
    expect(await getRun(run.run_id)).toMatchObject({ status: 'canceled', step_count: 5 });
  });

  it.each([
    [{ status: 'done' }, 'status'],
    [{}, 'status'],
    [{ status: 'succeeded', finished_at: 'soon' }, 'finished_at'],
  ])('refuses the body %j with 400 naming %s', async (body, field) => {
    const run = await createRun();
    const res = await post(`/v1/runs/${run.run_id}:finish`, body);
    expect(res.status).toBe(400);
    expect(Object.keys(errorOf(res.body).details ?? {})).toEqual([field]);
  });
});

describe('errors of the native REST endpoints', () => {
  let run: Run;
  beforeAll(async () => {
    run = await createRun();
  });

  const paths = () => [`/v1/runs`, `/v1/runs/${run.run_id}/steps`, `/v1/runs/${run.run_id}:finish`];
  const bodies = () => [{ name: 'x' }, { steps: [step()] }, { status: 'succeeded' }];

  it('is 401 without a key or with an unknown one, and 403 with a user key', async () => {
    for (const path of paths()) {
      for (const [key, status, code] of [
        [null, 401, 'unauthenticated'],
        ['art_not-a-key-at-all', 401, 'unauthenticated'],
        [s.adminKey, 403, 'permission_denied'],
      ] as const) {
        const res = await post(path, { name: 'x' }, key);
        expect([path, res.status]).toEqual([path, status]);
        expect(errorOf(res.body)).toMatchObject({ code, retryable: false });
      }
    }
    expect(await getSteps(run.run_id)).toEqual([]);
  });

  it('is 400 for a malformed run id and 404 for a well-formed unknown one', async () => {
    for (const suffix of ['/steps', ':finish']) {
      const bad = await post(`/v1/runs/not-a-uuid${suffix}`, suffix === ':finish' ? { status: 'failed' } : { steps: [step()] });
      expect(bad.status).toBe(400);
      expect(errorOf(bad.body)).toMatchObject({ code: 'invalid_argument', details: { run_id: 'must be a UUID' } });
      const missing = await post(`/v1/runs/${randomUUID()}${suffix}`, suffix === ':finish' ? { status: 'failed' } : { steps: [step()] });
      expect(missing.status).toBe(404);
      expect(errorOf(missing.body).code).toBe('not_found');
    }
  });

  it('is 404 for a run of another tenant or another project, which stays untouched', async () => {
    const project = randomUUID();
    await s.db.pool.query(`INSERT INTO project (id, tenant_id, name) VALUES ($1, $2, 'second')`, [project, s.tenantId]);
    const secondProjectKey = (await createKey(s.db.pool, { tenantId: s.tenantId, kind: 'ingest', projectId: project })).key;
    for (const key of [other.ingestKey.key, secondProjectKey]) {
      expect((await post(`/v1/runs/${run.run_id}/steps`, { steps: [step()] }, key)).status).toBe(404);
      expect((await post(`/v1/runs/${run.run_id}:finish`, { status: 'failed' }, key)).status).toBe(404);
    }
    expect(await getRun(run.run_id)).toMatchObject({ status: 'running', step_count: 0 });
    // The other tenant's own run of the same trace is its own: declaring it does not touch ours.
    const traceId = randomUUID().replaceAll('-', '');
    const ours = await createRun({ trace_id: traceId });
    const theirs = await createRun({ trace_id: traceId }, other.ingestKey.key);
    expect(theirs.run_id).not.toBe(ours.run_id);
  });

  it.each([0, 1, 2])('is 400 for a body that is not JSON (endpoint %i)', async (i) => {
    const res = await post(paths()[i]!, '{"name": ');
    expect(res.status).toBe(400);
    expect(errorOf(res.body).code).toBe('invalid_argument');
  });

  it.each([0, 1, 2])('is 413 for a body above the size limit (endpoint %i)', async (i) => {
    const huge = { ...bodies()[i], padding: 'x'.repeat(MAX_BODY_BYTES) };
    const res = await post(paths()[i]!, huge);
    expect(res.status).toBe(413);
    expect(errorOf(res.body)).toMatchObject({ code: 'payload_too_large' });
  });

  it('is 404 for an unknown action on a run', async () => {
    const res = await post(`/v1/runs/${run.run_id}:cancel`, {});
    expect(res.status).toBe(404);
    expect(errorOf(res.body).code).toBe('not_found');
  });
});
