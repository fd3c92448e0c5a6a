import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSteps } from './ingest-writer.ts';
import { Timeline } from '@agentrace/schemas';
import { getTimelineJson } from './step-queries.ts';
import { createTenant, type NewTenant } from './tenancy.ts';
import { createTestDatabase, type TestDatabase } from './testing/test-database.ts';
import { stepRecord } from './testing/step-records.ts';

let db: TestDatabase;
let tenant: NewTenant;
beforeAll(async () => {
  db = await createTestDatabase();
  tenant = await createTenant(db.pool, 'timeline');
});
afterAll(async () => {
  await db?.drop();
});

describe('getTimelineJson', () => {
  it('gives every step its depth in a deep chain, whatever order the spans arrived in', async () => {
    const ids = { tenantId: tenant.tenantId, projectId: tenant.projectId, runId: randomUUID(), traceId: randomBytes(16) };
    const chain = [stepRecord({ ...ids, name: 'd0', run: { isRoot: true } })];
    for (let i = 1; i < 40; i++) {
      chain.push(
        stepRecord({
          ...ids,
          name: `d${i}`,
          parentSpanId: chain[i - 1]!.spanId,
          ts: `2026-01-01T00:00:${String(i).padStart(2, '0')}.000000Z`,
        }),
      );
    }
    const sibling = stepRecord({ ...ids, name: 'side', parentSpanId: chain[0]!.spanId, ts: '2026-01-01T00:00:00.500000Z' });
    await writeSteps(db.pool, [...chain].reverse());
    await writeSteps(db.pool, [sibling]);
    const timeline = Timeline.parse(JSON.parse((await getTimelineJson(db.pool, tenant.tenantId, ids.runId))!));
    const depthOf = Object.fromEntries(timeline.steps.map((s) => [s.name, s.depth]));
    for (let i = 0; i < 40; i++) expect(depthOf[`d${i}`]).toBe(i);
    expect(depthOf.side).toBe(1);
    expect(timeline.steps.map((s) => s.name).slice(0, 3)).toEqual(['d0', 'side', 'd1']);
    const root = timeline.steps.find((s) => s.name === 'd0')!;
    expect(root.children.sort()).toEqual([timeline.steps.find((s) => s.name === 'd1')!.step_id, timeline.steps.find((s) => s.name === 'side')!.step_id].sort());
  });
});
