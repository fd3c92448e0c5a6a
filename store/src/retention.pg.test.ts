import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit, listAudit } from './audit-log.ts';
import { verifyAuditChain } from './audit-verify.ts';
import { writeSteps } from './ingest-writer.ts';
import { applyRetention } from './retention.ts';
import { createProject, createTenant, type NewTenant, setProjectRetention } from './tenancy.ts';
import { createTestDatabase, type TestDatabase } from './testing/test-database.ts';
import { stepRecord } from './testing/step-records.ts';
import { inTransaction } from './transaction.ts';

const DAY_MS = 86_400_000;
let db: TestDatabase;
const verify = (tenantId: string) => inTransaction(db.pool, (tx) => verifyAuditChain(tx, tenantId));

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

/** A run of three steps (one a tool call with its invocation) starting at `startedAt`. */
async function seedRun(
  tenantId: string,
  projectId: string,
  startedAt: Date,
): Promise<{ runId: string; payloadHashes: string[] }> {
  const ids = { tenantId, projectId, runId: randomUUID(), traceId: randomBytes(16) };
  const ts = `${startedAt.toISOString().slice(0, 23)}000Z`;
  const records = [
    stepRecord({ ...ids, ts, payloadJson: '{"n":1}' }),
    stepRecord({ ...ids, ts, payloadJson: '{"n":2}', invocation: {} }),
    stepRecord({ ...ids, ts, payloadJson: '{"n":3}' }),
  ];
  await writeSteps(db.pool, records);
  return { runId: ids.runId, payloadHashes: records.map((r) => r.payloadHash) };
}

const countRows = async (table: 'run' | 'step' | 'invocation', runId: string) =>
  (
    await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${table} WHERE ${table === 'run' ? 'id' : 'run_id'} = $1`,
      [runId],
    )
  ).rows[0]!.n;

describe('run retention', () => {
  let t: NewTenant;
  let other: NewTenant;
  const now = new Date(Date.now() + 40 * DAY_MS);

  beforeAll(async () => {
    t = await createTenant(db.pool, 'retained');
    other = await createTenant(db.pool, 'other');
    await inTransaction(db.pool, (tx) =>
      setProjectRetention(tx, t.tenantId, t.projectId, 30, t.adminKey.keyId),
    );
  });

  it('deletes only the expired runs of projects with a retention, with their steps and invocations, and leaves a tombstone', async () => {
    const expired = await seedRun(t.tenantId, t.projectId, new Date('2026-01-01T00:00:00Z'));
    const recent = await seedRun(t.tenantId, t.projectId, new Date(now.getTime() - 5 * DAY_MS));
    const keptForever = await inTransaction(db.pool, (tx) => createProject(tx, t.tenantId, 'forever', null));
    const unretained = await seedRun(t.tenantId, keptForever!.project_id, new Date('2026-01-01T00:00:00Z'));
    const otherTenant = await seedRun(other.tenantId, other.projectId, new Date('2026-01-01T00:00:00Z'));

    const outcome = await applyRetention(db.pool, { now, auditRetentionDays: 365 });

    expect(outcome).toEqual({ runs: 1, steps: 3, invocations: 1, auditRows: 0 });
    expect([
      await countRows('run', expired.runId),
      await countRows('step', expired.runId),
      await countRows('invocation', expired.runId),
    ]).toEqual([0, 0, 0]);
    for (const kept of [recent, unretained, otherTenant]) {
      expect([
        await countRows('run', kept.runId),
        await countRows('step', kept.runId),
        await countRows('invocation', kept.runId),
      ]).toEqual([1, 3, 1]);
    }
    const [tombstone] = (
      await listAudit(db.pool, t.tenantId, { limit: 1, action: 'retention.runs_deleted' }, null)
    ).data;
    const digest = `sha256:${createHash('sha256').update(expired.payloadHashes.join(',')).digest('hex')}`;
    expect(tombstone).toMatchObject({
      actor_key_id: null,
      target: t.projectId,
      details: {
        retention_days: 30,
        cutoff: new Date(now.getTime() - 30 * DAY_MS).toISOString(),
        runs: [
          {
            run_id: expired.runId,
            started_at: '2026-01-01T00:00:00.000Z',
            steps: 3,
            invocations: 1,
            payload_digest: digest,
          },
        ],
      },
    });
    expect((await verify(t.tenantId)).ok).toBe(true);
  });

  it('works through many expired runs in batches, one tombstone per batch', async () => {
    for (let i = 0; i < 5; i++) await seedRun(t.tenantId, t.projectId, new Date(Date.UTC(2026, 0, 2 + i)));
    const outcome = await applyRetention(db.pool, { now, auditRetentionDays: 365, batchRuns: 2 });
    expect(outcome.runs).toBe(5);
    const tombstones = (
      await listAudit(db.pool, t.tenantId, { limit: 10, action: 'retention.runs_deleted' }, null)
    ).data;
    expect(tombstones.slice(0, 3).map((r) => (r.details.runs as unknown[]).length)).toEqual([1, 2, 2]);
  });

  it('does nothing, and audits nothing, when nothing expired', async () => {
    const before = (await verify(t.tenantId)).head.seq;
    expect(await applyRetention(db.pool, { now, auditRetentionDays: 365 })).toEqual({
      runs: 0,
      steps: 0,
      invocations: 0,
      auditRows: 0,
    });
    expect((await verify(t.tenantId)).head.seq).toBe(before);
  });
});

describe('audit retention', () => {
  it('deletes only audit rows older than the audit retention, and the chain still verifies from where it was cut', async () => {
    const t = await createTenant(db.pool, 'audit-retention');
    const append = (target: string) =>
      inTransaction(db.pool, (tx) =>
        appendAudit(tx, { tenantId: t.tenantId, actorKeyId: null, action: 'policy.created', target }),
      );
    await append('old');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const cut = new Date();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await append('young-1');
    await append('young-2');

    const outcome = await applyRetention(db.pool, {
      now: new Date(cut.getTime() + 7 * DAY_MS),
      auditRetentionDays: 7,
    });

    // Here tenant.created, 2 × key.created and 'old'; the other tests' tenants lose theirs too.
    expect(outcome.auditRows).toBeGreaterThanOrEqual(4);
    const left = (await listAudit(db.pool, t.tenantId, { limit: 10 }, null)).data;
    expect(left.map((r) => r.target)).toEqual([null, 'young-2', 'young-1']);
    expect(left[0]).toMatchObject({ action: 'audit.pruned', details: { through_seq: 4, rows: 4 } });
    expect(await verify(t.tenantId)).toMatchObject({ ok: true, checked: 3 });

    // Deleting the oldest remaining row now looks like what it is, not like more pruning.
    await db.pool.query('DELETE FROM audit_log WHERE tenant_id = $1 AND seq = 5', [t.tenantId]);
    expect((await verify(t.tenantId)).problems).toEqual([
      expect.objectContaining({ seq: 5, problem: 'deleted' }),
    ]);
  });
});
