import { AuditVerification } from '@agentrace/schemas';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { auditRowHash } from './audit-chain.ts';
import { appendAudit, listAudit } from './audit-log.ts';
import { verifyAuditChain } from './audit-verify.ts';
import { createTenant, type NewTenant } from './tenancy.ts';
import { createTestDatabase, type TestDatabase } from './testing/test-database.ts';
import { inTransaction } from './transaction.ts';

let db: TestDatabase;
let tenant: NewTenant;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

/** A fresh tenant (its creation audits 3 rows) with 5 more entries: a chain of 8. */
beforeEach(async () => {
  tenant = await createTenant(db.pool, 'audited');
  for (let i = 1; i <= 5; i++) {
    await inTransaction(db.pool, (tx) =>
      appendAudit(tx, {
        tenantId: tenant.tenantId,
        actorKeyId: tenant.adminKey.keyId,
        action: 'policy.created',
        target: `p${i}`,
        details: { version: i, rules: [{ tool: 'shell', effect: 'block' }] },
      }),
    );
  }
});

const verify = async () =>
  AuditVerification.parse(await inTransaction(db.pool, (tx) => verifyAuditChain(tx, tenant.tenantId)));
const rowAt = async (seq: number) =>
  (
    await db.pool.query('SELECT id, hash, prev_hash FROM audit_log WHERE tenant_id = $1 AND seq = $2', [
      tenant.tenantId,
      seq,
    ])
  ).rows[0] as {
    id: string;
    hash: string;
    prev_hash: string;
  };

describe('the audit chain', () => {
  it('links every row to the one before and verifies', async () => {
    const report = await verify();
    expect(report).toMatchObject({ ok: true, checked: 8, problems: [], head: { seq: 8 } });
    const page = await listAudit(db.pool, tenant.tenantId, { limit: 100 }, null);
    expect(page.data.map((r) => r.seq)).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
    expect(page.data.slice(0, -1).every((r, i) => r.prev_hash === page.data[i + 1]!.hash)).toBe(true);
    expect(page.data.map((r) => r.action).slice(-3)).toEqual([
      'key.created',
      'key.created',
      'tenant.created',
    ]);
    expect(report.head.hash).toBe(page.data[0]!.hash);
  });

  it('pages newest first and filters by action', async () => {
    const first = await listAudit(db.pool, tenant.tenantId, { limit: 3 }, null);
    expect(first.data.map((r) => r.seq)).toEqual([8, 7, 6]);
    const keys = await listAudit(db.pool, tenant.tenantId, { limit: 10, action: 'key.created' }, null);
    expect(keys.data.map((r) => r.seq)).toEqual([3, 2]);
    expect(keys.next_cursor).toBeNull();
  });

  it('refuses to append outside a transaction, where the chain head would not stay locked', async () => {
    await expect(
      appendAudit(db.pool, { tenantId: tenant.tenantId, actorKeyId: null, action: 'x.y', target: null }),
    ).rejects.toThrow(/transaction/);
  });

  it('verifies only inside a transaction, where it can hold appends back while it reads', async () => {
    await expect(verifyAuditChain(db.pool, tenant.tenantId)).rejects.toThrow(/transaction/);
  });

  it('refuses an action that is not object.verb', async () => {
    await expect(
      inTransaction(db.pool, (tx) =>
        appendAudit(tx, { tenantId: tenant.tenantId, actorKeyId: null, action: 'DROP TABLE', target: null }),
      ),
    ).rejects.toThrow();
  });

  it('keeps appends of one tenant in one chain when they race', async () => {
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        inTransaction(db.pool, (tx) =>
          appendAudit(tx, {
            tenantId: tenant.tenantId,
            actorKeyId: null,
            action: 'approval.approved',
            target: `a${i}`,
          }),
        ),
      ),
    );
    expect(await verify()).toMatchObject({ ok: true, checked: 18 });
  });
});

describe('tampering, done directly in SQL as the table owner, is named by verify', () => {
  it('an edited row (its hash left alone)', async () => {
    await db.pool.query(`UPDATE audit_log SET details = '{"version": 99}' WHERE tenant_id = $1 AND seq = 5`, [
      tenant.tenantId,
    ]);
    const report = await verify();
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      expect.objectContaining({ seq: 5, id: (await rowAt(5)).id, problem: 'edited' }),
    ]);
  });

  it('an edited row whose hash was recomputed to match', async () => {
    const { rows } = await db.pool.query('SELECT * FROM audit_log WHERE tenant_id = $1 AND seq = 4', [
      tenant.tenantId,
    ]);
    const row = rows[0];
    const forged = {
      ...row,
      ts: (row.ts as Date).toISOString(),
      actor_key_id: null,
      details: { version: 3, rules: [] },
    };
    await db.pool.query(
      'UPDATE audit_log SET actor_key_id = NULL, details = $3, hash = $4 WHERE tenant_id = $1 AND seq = $2',
      [tenant.tenantId, 4, JSON.stringify(forged.details), auditRowHash(forged)],
    );
    const report = await verify();
    expect(report.problems).toEqual([expect.objectContaining({ seq: 4, id: row.id, problem: 'edited' })]);
  });

  it.each([1, 5, 8])('a deleted row (seq %i)', async (seq) => {
    await db.pool.query('DELETE FROM audit_log WHERE tenant_id = $1 AND seq = $2', [tenant.tenantId, seq]);
    const report = await verify();
    expect(report.problems).toEqual([expect.objectContaining({ seq, id: null, problem: 'deleted' })]);
  });

  it('a row inserted after the last, correctly chained', async () => {
    const last = await rowAt(8);
    const forged = {
      seq: 9,
      tenant_id: tenant.tenantId,
      ts: new Date().toISOString(),
      actor_key_id: null,
      action: 'break_glass.used',
      target: null,
      details: {},
      prev_hash: last.hash,
    };
    await db.pool.query(
      `INSERT INTO audit_log (tenant_id, seq, id, ts, actor_key_id, action, target, details, prev_hash, hash)
       VALUES ($1, 9, gen_random_uuid(), $2, NULL, $3, NULL, '{}', $4, $5)`,
      [tenant.tenantId, forged.ts, forged.action, forged.prev_hash, auditRowHash(forged)],
    );
    const report = await verify();
    expect(report.problems).toEqual([
      expect.objectContaining({ seq: 9, id: (await rowAt(9)).id, problem: 'inserted' }),
    ]);
  });

  it('a row inserted in the middle, the later rows renumbered', async () => {
    for (let seq = 8; seq >= 4; seq--) {
      await db.pool.query('UPDATE audit_log SET seq = seq + 1 WHERE tenant_id = $1 AND seq = $2', [
        tenant.tenantId,
        seq,
      ]);
    }
    const before = await rowAt(3);
    const forged = {
      seq: 4,
      tenant_id: tenant.tenantId,
      ts: new Date().toISOString(),
      actor_key_id: null,
      action: 'policy.created',
      target: 'allow-all',
      details: {},
      prev_hash: before.hash,
    };
    await db.pool.query(
      `INSERT INTO audit_log (tenant_id, seq, id, ts, actor_key_id, action, target, details, prev_hash, hash)
       VALUES ($1, 4, gen_random_uuid(), $2, NULL, $3, $4, '{}', $5, $6)`,
      [tenant.tenantId, forged.ts, forged.action, forged.target, forged.prev_hash, auditRowHash(forged)],
    );
    const report = await verify();
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toEqual(
      expect.objectContaining({ seq: 4, id: (await rowAt(4)).id, problem: 'inserted' }),
    );
  });
});
