import { randomBytes, randomUUID } from 'node:crypto';
import { AuditRecord, listOf } from '@agentrace/schemas';
import { writeSteps } from '@agentrace/store';
import { stepRecord } from '@agentrace/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './testing/test-server.ts';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ AGENTRACE_RETENTION_INTERVAL_S: '1' });
});
afterAll(async () => {
  await s?.close();
});

describe('the retention job of agentrace serve', () => {
  it('deletes the runs of a project past its retention on its next pass, and leaves a tombstone', async () => {
    const runId = randomUUID();
    const ids = { tenantId: s.tenantId, projectId: s.projectId, runId, traceId: randomBytes(16) };
    await writeSteps(s.db.pool, [stepRecord({ ...ids, ts: '2026-01-01T00:00:00.000000Z' })]);
    // A run last written to long ago (the writer sets updated_at to now).
    await s.db.pool.query(`UPDATE run SET updated_at = '2026-01-02T00:00:00Z' WHERE id = $1`, [runId]);
    const fresh = randomUUID();
    await writeSteps(s.db.pool, [
      stepRecord({ ...ids, runId: fresh, ts: new Date().toISOString().replace('Z', '000Z') }),
    ]);

    const set = await s.api(`/v1/admin/projects/${s.projectId}/retention`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ days: 7 }),
    });
    expect(set.status).toBe(200);

    await expect
      .poll(async () => (await s.api(`/v1/runs/${runId}`)).status, { timeout: 10_000, interval: 200 })
      .toBe(404);
    expect((await s.api(`/v1/runs/${fresh}`)).status).toBe(200);
    const tombstones = listOf(AuditRecord).parse(
      (await s.api('/v1/audit?action=retention.runs_deleted')).body,
    ).data;
    expect(tombstones[0]!.details.runs).toEqual([expect.objectContaining({ run_id: runId, steps: 1 })]);
    expect((await s.api<{ ok: boolean }>('/v1/audit:verify')).body.ok).toBe(true);
  });
});
