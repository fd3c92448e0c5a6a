import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticateBearer, authenticateKey, createKey, issueKey, listKeys, revokeKey } from './api-keys.ts';
import { listAudit } from './audit-log.ts';
import { createTenant, type NewTenant } from './tenancy.ts';
import { createTestDatabase, type TestDatabase } from './testing/test-database.ts';
import { inTransaction } from './transaction.ts';

let db: TestDatabase;
let t: NewTenant;
let other: NewTenant;

beforeAll(async () => {
  db = await createTestDatabase();
  t = await createTenant(db.pool, 'keys');
  other = await createTenant(db.pool, 'other');
});
afterAll(async () => {
  await db?.drop();
});

const lastUsed = async (keyId: string) =>
  (
    await db.pool.query<{ last_used_at: Date | null }>('SELECT last_used_at FROM api_key WHERE id = $1', [
      keyId,
    ])
  ).rows[0]!.last_used_at;

describe('keys', () => {
  it('are random, prefixed, and stored only as a hash', async () => {
    const a = await createKey(db.pool, { tenantId: t.tenantId, kind: 'user', role: 'viewer' });
    const b = await createKey(db.pool, { tenantId: t.tenantId, kind: 'user', role: 'viewer' });
    expect(a.key).toMatch(/^art_[A-Za-z0-9_-]{43}$/);
    expect(a.key).not.toBe(b.key);
    const { rows } = await db.pool.query('SELECT * FROM api_key WHERE id = $1', [a.keyId]);
    expect(JSON.stringify(rows[0])).not.toContain(a.key.slice(12));
  });

  it('authenticate to their principal', async () => {
    expect(await authenticateBearer(db.pool, `Bearer ${t.adminKey.key}`)).toEqual({
      kind: 'user',
      keyId: t.adminKey.keyId,
      tenantId: t.tenantId,
      role: 'admin',
    });
    expect(await authenticateKey(db.pool, t.ingestKey.key)).toEqual({
      kind: 'ingest',
      keyId: t.ingestKey.keyId,
      tenantId: t.tenantId,
      projectId: t.projectId,
    });
  });

  it.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['another scheme', `Basic ${Buffer.from('u:p').toString('base64')}`],
    ['a bare token', 'art_abc'],
    ['two tokens', 'Bearer art_a art_b'],
    ['an unknown key', 'Bearer art_0000000000000000000000000000000000000000000'],
    ['a key with a character changed', 'KEY_WITH_A_CHANGE'],
    ['an oversized token', `Bearer art_${'a'.repeat(10_000)}`],
  ])('refuse %s', async (_what, header) => {
    const value =
      header === 'KEY_WITH_A_CHANGE'
        ? `Bearer ${t.adminKey.key.slice(0, -1)}${t.adminKey.key.endsWith('A') ? 'B' : 'A'}`
        : header;
    expect(await authenticateBearer(db.pool, value)).toBeNull();
  });

  it('stop working as soon as they are revoked, and revoking again changes nothing', async () => {
    const k = await createKey(db.pool, { tenantId: t.tenantId, kind: 'user', role: 'approver' });
    expect(await authenticateKey(db.pool, k.key)).not.toBeNull();
    const revoked = await inTransaction(db.pool, (tx) =>
      revokeKey(tx, t.tenantId, k.keyId, t.adminKey.keyId),
    );
    expect(revoked?.revoked_at).not.toBeNull();
    expect(await authenticateKey(db.pool, k.key)).toBeNull();
    const again = await inTransaction(db.pool, (tx) => revokeKey(tx, t.tenantId, k.keyId, t.adminKey.keyId));
    expect(again?.revoked_at).toBe(revoked?.revoked_at);
    const audit = (await listAudit(db.pool, t.tenantId, { limit: 100, action: 'key.revoked' }, null)).data;
    expect(audit.filter((r) => r.target === k.keyId)).toHaveLength(1);
  });

  it('cannot be revoked through another tenant, which does not see them', async () => {
    expect(
      await inTransaction(db.pool, (tx) =>
        revokeKey(tx, other.tenantId, t.adminKey.keyId, other.adminKey.keyId),
      ),
    ).toBeNull();
    expect(await authenticateKey(db.pool, t.adminKey.key)).not.toBeNull();
  });

  it('stop working once expired', async () => {
    const k = await createKey(db.pool, {
      tenantId: t.tenantId,
      kind: 'user',
      role: 'viewer',
      expiresAt: new Date(Date.now() + 1000).toISOString(),
    });
    expect(await authenticateKey(db.pool, k.key)).not.toBeNull();
    await db.pool.query("UPDATE api_key SET expires_at = now() - interval '1 second' WHERE id = $1", [
      k.keyId,
    ]);
    expect(await authenticateKey(db.pool, k.key)).toBeNull();
  });

  it('record their last use at most once a minute, not on every request', async () => {
    const k = await createKey(db.pool, { tenantId: t.tenantId, kind: 'user', role: 'viewer' });
    expect(await lastUsed(k.keyId)).toBeNull();
    await authenticateKey(db.pool, k.key);
    const first = await lastUsed(k.keyId);
    expect(first).not.toBeNull();
    await Promise.all(Array.from({ length: 5 }, () => authenticateKey(db.pool, k.key)));
    expect(await lastUsed(k.keyId)).toEqual(first);
    await db.pool.query("UPDATE api_key SET last_used_at = now() - interval '61 seconds' WHERE id = $1", [
      k.keyId,
    ]);
    await authenticateKey(db.pool, k.key);
    expect(Date.now() - (await lastUsed(k.keyId))!.getTime()).toBeLessThan(10_000);
  });

  it('list without secrets or hashes, and show little of a short operator-chosen key', async () => {
    const custom = await createKey(db.pool, {
      tenantId: other.tenantId,
      kind: 'user',
      role: 'admin',
      secret: 'sixteen-chars-ok',
    });
    const keys = await listKeys(db.pool, other.tenantId);
    const listed = keys.find((k) => k.key_id === custom.keyId)!;
    expect(listed.prefix).toBe('sixt');
    expect(keys.find((k) => k.key_id === other.adminKey.keyId)!.prefix).toBe(other.adminKey.key.slice(0, 12));
    expect(JSON.stringify(keys)).not.toMatch(/secret|hash/);
    expect(Object.keys(listed).sort()).toEqual(
      [
        'created_at',
        'expires_at',
        'key_id',
        'kind',
        'last_used_at',
        'prefix',
        'project_id',
        'revoked_at',
        'role',
      ].sort(),
    );
  });

  it("are not issued for another tenant's project", async () => {
    expect(
      await inTransaction(db.pool, (tx) =>
        issueKey(tx, { tenantId: t.tenantId, kind: 'ingest', projectId: other.projectId }, null),
      ),
    ).toBeNull();
  });
});
