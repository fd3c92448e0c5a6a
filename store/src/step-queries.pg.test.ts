import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSteps } from './ingest-writer.ts';
import { StepListQuery, Timeline } from '@agentrace/schemas';
import { getRunWithSteps, getTimelineJson, listSteps } from './step-queries.ts';
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
    const ids = {
      tenantId: tenant.tenantId,
      projectId: tenant.projectId,
      runId: randomUUID(),
      traceId: randomBytes(16),
    };
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
    const sibling = stepRecord({
      ...ids,
      name: 'side',
      parentSpanId: chain[0]!.spanId,
      ts: '2026-01-01T00:00:00.500000Z',
    });
    await writeSteps(db.pool, [...chain].reverse());
    await writeSteps(db.pool, [sibling]);
    const timeline = Timeline.parse(
      JSON.parse((await getTimelineJson(db.pool, tenant.tenantId, ids.runId))!.json),
    );
    const depthOf = Object.fromEntries(timeline.steps.map((s) => [s.name, s.depth]));
    for (let i = 0; i < 40; i++) expect(depthOf[`d${i}`]).toBe(i);
    expect(depthOf.side).toBe(1);
    expect(timeline.steps.map((s) => s.name).slice(0, 3)).toEqual(['d0', 'side', 'd1']);
    const root = timeline.steps.find((s) => s.name === 'd0')!;
    expect(root.children.sort()).toEqual(
      [
        timeline.steps.find((s) => s.name === 'd1')!.step_id,
        timeline.steps.find((s) => s.name === 'side')!.step_id,
      ].sort(),
    );
  });

  it("resolves each step's parent as the steps list does: in the run, in another run of the trace, or as given", async () => {
    const traceId = randomBytes(16);
    const base = { tenantId: tenant.tenantId, projectId: tenant.projectId, traceId };
    const parentRunId = randomUUID();
    const subRunId = randomUUID();
    const agent = stepRecord({ ...base, runId: parentRunId, name: 'agent', run: { isRoot: true } });
    const delegate = stepRecord({
      ...base,
      runId: parentRunId,
      name: 'delegate',
      parentSpanId: agent.spanId,
    });
    // The sub-agent's run starts under a span of the parent run: its root's parent lives in another run.
    const subRoot = stepRecord({
      ...base,
      runId: subRunId,
      name: 'sub-agent',
      parentSpanId: delegate.spanId,
      run: { isRoot: true },
    });
    const subCall = stepRecord({ ...base, runId: subRunId, name: 'sub-call', parentSpanId: subRoot.spanId });
    const given = stepRecord({ ...base, runId: subRunId, name: 'native', spanId: randomBytes(8) });
    const orphan = stepRecord({ ...base, runId: subRunId, name: 'orphan', parentSpanId: randomBytes(8) });
    // Children first, in separate batches: no parent is known when its child is stored.
    await writeSteps(db.pool, [subCall, orphan]);
    await writeSteps(db.pool, [subRoot]);
    await writeSteps(db.pool, [delegate, agent]);
    const subRootId = (
      await listSteps(db.pool, tenant.tenantId, subRunId, StepListQuery.parse({}), 0)
    ).data.find((s) => s.name === 'sub-agent')!.step_id;
    await writeSteps(db.pool, [{ ...given, parentStepId: subRootId }]);

    for (const runId of [parentRunId, subRunId]) {
      const listed = (await listSteps(db.pool, tenant.tenantId, runId, StepListQuery.parse({}), 0)).data;
      const expected = Object.fromEntries(listed.map((s) => [s.step_id, s.parent_step_id]));
      const timeline = Timeline.parse(
        JSON.parse((await getTimelineJson(db.pool, tenant.tenantId, runId))!.json),
      );
      expect(Object.fromEntries(timeline.steps.map((s) => [s.step_id, s.parent_step_id]))).toEqual(expected);
      const whole = (await getRunWithSteps(db.pool, tenant.tenantId, runId))!;
      expect(Object.fromEntries(whole.steps.map((s) => [s.step_id, s.parent_step_id]))).toEqual(expected);
    }
    const sub = Timeline.parse(JSON.parse((await getTimelineJson(db.pool, tenant.tenantId, subRunId))!.json));
    const byName = Object.fromEntries(sub.steps.map((s) => [s.name, s]));
    const delegateId = (
      await listSteps(db.pool, tenant.tenantId, parentRunId, StepListQuery.parse({}), 0)
    ).data.find((s) => s.name === 'delegate')!.step_id;
    expect(byName['sub-agent']!.parent_step_id).toBe(delegateId);
    expect(byName['sub-call']!.parent_step_id).toBe(subRootId);
    expect(byName.native!.parent_step_id).toBe(subRootId);
    expect(byName.orphan!.parent_step_id).toBeNull();
    // A parent in another run is not a child in this run's tree: the sub-agent is one of its roots.
    expect(byName['sub-agent']!.depth).toBe(0);
    expect(byName['sub-agent']!.children.sort()).toEqual(
      [byName['sub-call']!.step_id, byName.native!.step_id].sort(),
    );
  });
});
