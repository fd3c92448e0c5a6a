import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ApiKey, CreatedKey } from '@agentrace/schemas';
import {
  authenticateKey,
  createTenant,
  currentSigningKey,
  type NewTenant,
  signingPublicKeys,
} from '@agentrace/store';
import { createTestDatabase, type TestDatabase } from '@agentrace/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { auditCommand } from './audit.ts';
import { KEYS_FLAGS, keysCommand } from './keys.ts';
import { type CommandFn, runCommand } from './testing/run-command.ts';

const BIN = fileURLToPath(new URL('../bin/agentrace.mjs', import.meta.url));
let db: TestDatabase;
let t: NewTenant;
let other: NewTenant;

beforeAll(async () => {
  db = await createTestDatabase();
  t = await createTenant(db.pool, 'cli');
  other = await createTenant(db.pool, 'other');
});
afterAll(async () => {
  await db?.drop();
});

/** Runs a command's function as main.ts would, with this argv; returns its exit code and output. */
const cli = (command: CommandFn, argv: string[]) =>
  runCommand(command, argv, KEYS_FLAGS, { DATABASE_URL: db.url });

describe('agentrace keys', () => {
  it('creates a user key, shown once, that works at once', async () => {
    const res = await cli(keysCommand, [
      'keys',
      'create',
      '--tenant',
      t.tenantId,
      '--kind',
      'user',
      '--role',
      'approver',
      '--json',
    ]);
    expect(res.code).toBe(0);
    const created = CreatedKey.parse(JSON.parse(res.out));
    expect(await authenticateKey(db.pool, created.key)).toMatchObject({
      kind: 'user',
      role: 'approver',
      tenantId: t.tenantId,
    });
  });

  it('creates an ingest key for a project of the tenant, and refuses one of another tenant', async () => {
    const ok = await cli(keysCommand, [
      'keys',
      'create',
      '--tenant',
      t.tenantId,
      '--kind',
      'ingest',
      '--project',
      t.projectId,
    ]);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^key_id [0-9a-f-]{36}\nkey {4}art_/);
    const foreign = await cli(keysCommand, [
      'keys',
      'create',
      '--tenant',
      t.tenantId,
      '--kind',
      'ingest',
      '--project',
      other.projectId,
    ]);
    expect(foreign).toMatchObject({ code: 1, out: '' });
    expect(foreign.err).toContain(`no project ${other.projectId}`);
  });

  it.each([
    [['keys', 'create', '--tenant', 'nope', '--kind', 'user', '--role', 'admin'], /--tenant/],
    [['keys', 'create', '--kind', 'user', '--role', 'admin'], /--tenant/],
    [['keys', 'create', '--tenant', 'TENANT', '--kind', 'user'], /--role/],
    [['keys', 'create', '--tenant', 'TENANT', '--kind', 'ingest', '--role', 'admin'], /--project/],
    [['keys', 'create', '--tenant', 'TENANT', '--kind', 'user', '--role', 'root'], /--role/],
    [
      ['keys', 'create', '--tenant', 'TENANT', '--kind', 'user', '--role', 'admin', '--expires-at', 'soon'],
      /--expires-at/,
    ],
    [['keys', 'revoke', '--tenant', 'TENANT'], /incomplete/],
    [['keys', 'rotate', '--tenant', 'TENANT'], /unknown/],
    [['keys'], /needs a command/],
  ])('refuses %j as bad usage (exit 2)', async (argv, message) => {
    const res = await cli(
      keysCommand,
      argv.map((a) => (a === 'TENANT' ? t.tenantId : a)),
    );
    expect(res.code).toBe(2);
    expect(res.err).toMatch(message);
    expect(res.err).toContain('usage: agentrace keys');
  });

  it('says so for a tenant that does not exist (exit 1)', async () => {
    const res = await cli(keysCommand, ['keys', 'list', '--tenant', '00000000-0000-4000-8000-000000000000']);
    expect(res.code).toBe(1);
    expect(res.err).toContain('no tenant');
  });

  it("lists a tenant's keys without secrets, and revokes one", async () => {
    const listed = await cli(keysCommand, ['keys', 'list', '--tenant', t.tenantId, '--json']);
    const keys = z.object({ data: z.array(ApiKey) }).parse(JSON.parse(listed.out)).data;
    expect(keys.map((k) => k.key_id)).toContain(t.adminKey.keyId);
    expect(listed.out).not.toContain(t.adminKey.key);
    const table = await cli(keysCommand, ['keys', 'list', '--tenant', t.tenantId]);
    expect(table.out.split('\n')[0]).toMatch(/^key_id\s+kind\s+role\/project\s+prefix/);

    const revoked = await cli(keysCommand, [
      'keys',
      'revoke',
      t.ingestKey.keyId,
      '--tenant',
      t.tenantId,
      '--json',
    ]);
    expect(revoked.code).toBe(0);
    expect(ApiKey.parse(JSON.parse(revoked.out)).revoked_at).not.toBeNull();
    expect(await authenticateKey(db.pool, t.ingestKey.key)).toBeNull();
    const foreign = await cli(keysCommand, ['keys', 'revoke', other.adminKey.keyId, '--tenant', t.tenantId]);
    expect(foreign.code).toBe(1);
    expect(await authenticateKey(db.pool, other.adminKey.key)).not.toBeNull();
  });

  it('rotates the signing key: a new current key, the old one kept (retired) to verify its tokens', async () => {
    const first = (await currentSigningKey(db.pool)).id;
    const res = await cli(keysCommand, ['keys', 'rotate-signing', '--json']);
    expect(res.code).toBe(0);
    const out = z.object({ key_id: z.uuid(), retired_key_id: z.uuid() }).parse(JSON.parse(res.out));
    expect(out.retired_key_id).toBe(first);
    expect((await currentSigningKey(db.pool)).id).toBe(out.key_id);
    const keys = await signingPublicKeys(db.pool);
    expect(keys.find((k) => k.key_id === first)?.retired_at).not.toBeNull();
    const text = await cli(keysCommand, ['keys', 'rotate-signing']);
    expect(text.out).toMatch(new RegExp(`^signing key [0-9a-f-]{36} \\(retired ${out.key_id};`));
  });
});

describe('agentrace audit verify', () => {
  const verify = (argv: string[]) => cli(auditCommand, ['audit', 'verify', ...argv]);

  it('finds every chain intact, then names a deleted row (exit 1) in the tenant it belongs to', async () => {
    const intact = await verify(['--json']);
    expect(intact.code).toBe(0);
    expect(JSON.parse(intact.out).tenants).toHaveLength(2);
    await db.pool.query('DELETE FROM audit_log WHERE tenant_id = $1 AND seq = 2', [other.tenantId]);
    const tampered = await verify([]);
    expect(tampered.code).toBe(1);
    expect(tampered.out).toContain(`tenant ${other.tenantId}: TAMPERED`);
    expect(tampered.out).toMatch(/seq 2: deleted: row 2 was deleted/);
    expect(tampered.out).toContain(`tenant ${t.tenantId}: intact`);
    expect((await verify(['--tenant', t.tenantId])).code).toBe(0);
    expect((await verify(['--tenant', 'x'])).code).toBe(2);
  });

  it('runs from the real command line', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [BIN, 'audit', 'verify', '--tenant', t.tenantId, '--json'],
      {
        env: { ...process.env, DATABASE_URL: db.url, AGENTRACE_LOG_LEVEL: 'silent' },
      },
    );
    expect(JSON.parse(stdout).tenants[0]).toMatchObject({ tenant_id: t.tenantId, ok: true });
  });
});
