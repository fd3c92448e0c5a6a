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
});
