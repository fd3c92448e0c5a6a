import { randomBytes, randomUUID } from 'node:crypto';
import { Step, Timeline } from '@agentrace/schemas';
import { createTenant, type NewTenant, storeEstimatedCosts, writeSteps } from '@agentrace/store';
import { createTestDatabase, stepRecord, type TestDatabase } from '@agentrace/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type ListeningQueryApp, listenQueryApp } from '../testing/listen-query-app.ts';

let db: TestDatabase;
let app: ListeningQueryApp;
let tenant: NewTenant;

async function getJson(path: string) {
  const res = await fetch(app.base + path, { headers: { authorization: `Bearer ${tenant.adminKey.key}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return (await res.json()) as unknown;
}
const timelineOf = async (runId: string) => Timeline.parse(await getJson(`/v1/runs/${runId}/timeline`));

beforeAll(async () => {
  db = await createTestDatabase();
  tenant = await createTenant(db.pool, 'timelines');
  app = await listenQueryApp(db.pool);
});
afterAll(async () => {
  await app?.close();
  await db?.drop();
});

describe('GET /v1/runs/{id}/timeline', () => {
  const ids = () => ({
    tenantId: tenant.tenantId,
    projectId: tenant.projectId,
    runId: randomUUID(),
    traceId: randomBytes(16),
  });

  it('passes each payload through exactly as the steps endpoint returns it', async () => {
    const run = ids();
    const payloadJson = JSON.stringify({
      input: { messages: [{ role: 'user', content: 'Zürich → 東京, "quoted" \\ back\nslash' }] },
      output: { n: 1.5e-7, big: 12345678901234, nested: [null, true, { e: [] }] },
      attributes: {},
    });
    const root = stepRecord({ ...run, type: 'agent', name: 'root', run: { isRoot: true }, payloadJson });
    const child = stepRecord({
      ...run,
      type: 'tool',
      name: 'search',
      parentSpanId: root.spanId,
      payloadJson,
    });
    await writeSteps(db.pool, [root, child]);
    const timeline = await timelineOf(run.runId);
    const steps = z.object({ data: z.array(Step) }).parse(await getJson(`/v1/runs/${run.runId}/steps`)).data;
    expect(timeline.steps.map(({ depth, offset_ms, children, ...step }) => step)).toEqual(steps);
    expect(timeline.steps[0]!.payload).toEqual(JSON.parse(payloadJson));
    expect(timeline.steps.map((s) => [s.name, s.depth, s.children.length])).toEqual([
      ['root', 0, 1],
      ['search', 1, 0],
    ]);
  });

  it('shows steps that arrive after the timeline was read (a cached answer is never stale)', async () => {
    const run = ids();
    const root = stepRecord({ ...run, type: 'agent', name: 'root', run: { isRoot: true } });
    await writeSteps(db.pool, [root]);
    expect((await timelineOf(run.runId)).steps.map((s) => s.name)).toEqual(['root']);
    expect((await timelineOf(run.runId)).steps.map((s) => s.name)).toEqual(['root']);
    await writeSteps(db.pool, [
      stepRecord({
        ...run,
        type: 'llm',
        name: 'late',
        parentSpanId: root.spanId,
        ts: '2026-01-01T00:00:00.500000Z',
      }),
    ]);
    const timeline = await timelineOf(run.runId);
    expect(timeline.steps.map((s) => s.name)).toEqual(['root', 'late']);
    expect(timeline.run.step_count).toBe(2);
    expect(timeline.steps[0]!.children).toEqual([timeline.steps[1]!.step_id]);
  });

  it('shows a re-priced cost after `cost recompute` stored it', async () => {
    const run = ids();
    const call = stepRecord({
      ...run,
      type: 'llm',
      name: 'chat',
      costUsd: 0.5,
      run: { isRoot: true },
      invocation: {
        kind: 'model',
        target: 'gpt-4o',
        model: 'gpt-4o',
        inputTokens: 10,
        outputTokens: 1,
        costUsd: 0.5,
      },
    });
    await writeSteps(db.pool, [call]);
    expect((await timelineOf(run.runId)).steps[0]!.cost_usd).toBe(0.5);
    const { rows } = await db.pool.query<{ id: string }>('SELECT id FROM invocation WHERE run_id = $1', [
      run.runId,
    ]);
    await storeEstimatedCosts(db.pool, tenant.tenantId, [{ id: rows[0]!.id, costUsd: 0.25 }]);
    const timeline = await timelineOf(run.runId);
    expect(timeline.steps[0]!.cost_usd).toBe(0.25);
    expect(timeline.run.cost_usd).toBe(0.25);
  });

  it('answers 304 to a client that holds the current version, in any API process, and 200 once the run changed', async () => {
    const run = ids();
    const root = stepRecord({ ...run, type: 'agent', name: 'root', run: { isRoot: true } });
    await writeSteps(db.pool, [root]);
    const auth = { authorization: `Bearer ${tenant.adminKey.key}` };
    const first = await fetch(`${app.base}/v1/runs/${run.runId}/timeline`, { headers: auth });
    expect(first.status).toBe(200);
    const tag = first.headers.get('etag');
    expect(tag).toMatch(/^"1-.+"$/);
    expect(first.headers.get('cache-control')).toBe('private, no-cache');
    await first.arrayBuffer();

    // Another API process, its cache empty: the version alone answers.
    const other = await listenQueryApp(db.pool);
    try {
      for (const base of [app.base, other.base]) {
        const again = await fetch(`${base}/v1/runs/${run.runId}/timeline`, {
          headers: { ...auth, 'if-none-match': tag! },
        });
        expect(again.status).toBe(304);
        expect(again.headers.get('etag')).toBe(tag);
        expect(await again.text()).toBe('');
      }
    } finally {
      await other.close();
    }
    // Another tenant's key learns nothing from a tag: the run is not found.
    const stranger = await createTenant(db.pool, 'timelines-stranger');
    const foreign = await fetch(`${app.base}/v1/runs/${run.runId}/timeline`, {
      headers: { authorization: `Bearer ${stranger.adminKey.key}`, 'if-none-match': tag! },
    });
    expect(foreign.status).toBe(404);

    await writeSteps(db.pool, [stepRecord({ ...run, type: 'llm', name: 'next', parentSpanId: root.spanId })]);
    const changed = await fetch(`${app.base}/v1/runs/${run.runId}/timeline`, {
      headers: { ...auth, 'if-none-match': tag! },
    });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(tag);
    expect(Timeline.parse(await changed.json()).steps.map((s) => s.name)).toEqual(['root', 'next']);
  });

  it("shows a sub-agent's caller once the caller's span arrives, though the sub-agent's run did not change", async () => {
    const traceId = randomBytes(16);
    const base = { tenantId: tenant.tenantId, projectId: tenant.projectId, traceId };
    const caller = stepRecord({
      ...base,
      runId: randomUUID(),
      type: 'tool',
      name: 'delegate',
      run: { isRoot: true },
    });
    const sub = { ...base, runId: randomUUID() };
    // The caller's span ends (and is exported) after the sub-agent's: the sub-agent's run is stored first.
    const subRoot = stepRecord({
      ...sub,
      type: 'agent',
      name: 'sub-agent',
      parentSpanId: caller.spanId,
      run: { isRoot: true },
    });
    await writeSteps(db.pool, [subRoot]);
    const path = `/v1/runs/${sub.runId}/timeline`;
    const before = await fetch(app.base + path, {
      headers: { authorization: `Bearer ${tenant.adminKey.key}` },
    });
    expect(before.headers.get('etag')).toBeNull();
    expect(Timeline.parse(await before.json()).steps[0]!.parent_step_id).toBeNull();
    expect((await timelineOf(sub.runId)).steps[0]!.parent_step_id).toBeNull();

    await writeSteps(db.pool, [caller]);
    const callerId = z.object({ data: z.array(Step) }).parse(await getJson(`/v1/runs/${caller.runId}/steps`))
      .data[0]!.step_id;
    const after = await fetch(app.base + path, {
      headers: { authorization: `Bearer ${tenant.adminKey.key}` },
    });
    expect(after.headers.get('etag')).toMatch(/^"1-.+"$/);
    const timeline = Timeline.parse(await after.json());
    expect(timeline.steps[0]!.parent_step_id).toBe(callerId);
    // Its caller lives in another run: in this run's tree the sub-agent is still a root.
    expect(timeline.steps[0]!.depth).toBe(0);
  });
});
