import { randomUUID } from 'node:crypto';
import {
  ApiKey,
  AuditRecord,
  AuditVerification,
  CreatedKey,
  ErrorEnvelope,
  listOf,
  Project,
} from '@agentrace/schemas';
import { createTenant, type NewTenant } from '@agentrace/store';
import { createTestDatabase, type TestDatabase } from '@agentrace/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type ListeningQueryApp, listenQueryApp } from '../testing/listen-query-app.ts';

let db: TestDatabase;
let app: ListeningQueryApp;
let base: string;
let tenant: NewTenant;
let other: NewTenant;

beforeAll(async () => {
  db = await createTestDatabase();
  tenant = await createTenant(db.pool, 'admins');
  other = await createTenant(db.pool, 'someone-else');
  app = await listenQueryApp(db.pool);
  base = app.base;
});
afterAll(async () => {
  await app?.close();
  await db?.drop();
});

async function request(method: string, path: string, body?: unknown, key = tenant.adminKey.key) {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as unknown };
}
const errorOf = (body: unknown) => ErrorEnvelope.parse(body).error;
const Keys = z.object({ data: z.array(ApiKey) });
const Projects = z.object({ data: z.array(Project) });
const AuditPage = listOf(AuditRecord);

describe('projects', () => {
  it('are created, listed, and their names are unique per tenant', async () => {
    const created = await request('POST', '/v1/admin/projects', { name: 'checkout-agent' });
    expect(created.status).toBe(201);
    const project = Project.parse(created.body);
    expect(project).toMatchObject({ name: 'checkout-agent', retention_days: null });
    const again = await request('POST', '/v1/admin/projects', { name: 'checkout-agent' });
    expect([again.status, errorOf(again.body).code]).toEqual([409, 'conflict']);
    // Another tenant may use the same name, and does not see this one.
    expect(
      (await request('POST', '/v1/admin/projects', { name: 'checkout-agent' }, other.adminKey.key)).status,
    ).toBe(201);
    const mine = Projects.parse((await request('GET', '/v1/admin/projects')).body).data;
    expect(mine.map((p) => p.name)).toEqual(['default', 'checkout-agent']);
  });

  it('take a retention in days, or none', async () => {
    const path = `/v1/admin/projects/${tenant.projectId}/retention`;
    expect(Project.parse((await request('PUT', path, { days: 30 })).body).retention_days).toBe(30);
    expect(Project.parse((await request('PUT', path, { days: null })).body).retention_days).toBeNull();
  });

  it.each([
    ['POST', '/v1/admin/projects', {}, 'name'],
    ['POST', '/v1/admin/projects', { name: '   ' }, 'name'],
    ['POST', '/v1/admin/projects', { name: 'x', tenant_id: randomUUID() }, 'tenant_id'],
    ['POST', '/v1/admin/projects', '{not json', null],
    ['PUT', '/v1/admin/projects/PROJECT/retention', { days: 0 }, 'days'],
    ['PUT', '/v1/admin/projects/PROJECT/retention', { days: 1.5 }, 'days'],
    ['PUT', '/v1/admin/projects/PROJECT/retention', {}, 'days'],
    ['PUT', '/v1/admin/projects/not-a-uuid/retention', { days: 7 }, 'project_id'],
  ])('refuse %s %s %j with 400 naming %s', async (method, path, body, field) => {
    const res = await request(method, path.replace('PROJECT', tenant.projectId), body);
    expect(res.status).toBe(400);
    expect(errorOf(res.body).code).toBe('invalid_argument');
    if (field) expect(Object.keys(errorOf(res.body).details ?? {})).toContain(field);
  });

  it("answer 404 for another tenant's project", async () => {
    const res = await request('PUT', `/v1/admin/projects/${other.projectId}/retention`, { days: 7 });
    expect([res.status, errorOf(res.body).code]).toEqual([404, 'not_found']);
  });
});

describe('keys', () => {
  it('are created with the secret shown once, work at once, and list without it', async () => {
    const res = await request('POST', '/v1/admin/keys', { kind: 'user', role: 'viewer' });
    expect(res.status).toBe(201);
    const created = CreatedKey.parse(res.body);
    expect(created.key).toMatch(/^art_/);
    expect((await request('GET', '/v1/runs', undefined, created.key)).status).toBe(200);
    expect((await request('GET', '/v1/admin/keys', undefined, created.key)).status).toBe(403);
    const listing = await request('GET', '/v1/admin/keys');
    const keys = Keys.parse(listing.body).data;
    expect(keys.find((k) => k.key_id === created.key_id)).toMatchObject({
      kind: 'user',
      role: 'viewer',
      project_id: null,
      prefix: created.key.slice(0, 12),
      revoked_at: null,
    });
    expect(JSON.stringify(listing.body)).not.toContain(created.key);
    expect(keys.every((k) => ![other.adminKey.keyId, other.ingestKey.keyId].includes(k.key_id))).toBe(true);
  });

  it('for ingest name a project of the tenant', async () => {
    const res = await request('POST', '/v1/admin/keys', { kind: 'ingest', project_id: tenant.projectId });
    expect(res.status).toBe(201);
    const listed = Keys.parse((await request('GET', '/v1/admin/keys')).body).data;
    expect(listed.find((k) => k.key_id === CreatedKey.parse(res.body).key_id)).toMatchObject({
      kind: 'ingest',
      role: null,
      project_id: tenant.projectId,
    });
    const foreign = await request('POST', '/v1/admin/keys', { kind: 'ingest', project_id: other.projectId });
    expect([foreign.status, errorOf(foreign.body).code]).toEqual([404, 'not_found']);
  });

  it.each([
    [{ kind: 'user' }, 'role'],
    [{ kind: 'user', role: 'owner' }, 'role'],
    [{ kind: 'user', role: 'admin', project_id: randomUUID() }, 'project_id'],
    [{ kind: 'ingest' }, 'project_id'],
    [{ kind: 'ingest', project_id: randomUUID(), role: 'viewer' }, 'role'],
    [{ kind: 'root' }, 'kind'],
    [{ kind: 'user', role: 'viewer', expires_at: '2020-01-01T00:00:00Z' }, 'expires_at'],
    [{ kind: 'user', role: 'viewer', expires_at: 'tomorrow' }, 'expires_at'],
  ])('refuse %j with 400 naming %s', async (body, field) => {
    const res = await request('POST', '/v1/admin/keys', body);
    expect(res.status).toBe(400);
    expect(Object.keys(errorOf(res.body).details ?? {})).toContain(field);
  });

  it("are revoked by id, at once, idempotently; another tenant's key is a 404", async () => {
    const created = CreatedKey.parse(
      (await request('POST', '/v1/admin/keys', { kind: 'user', role: 'approver' })).body,
    );
    const revoked = await request('DELETE', `/v1/admin/keys/${created.key_id}`);
    expect(revoked.status).toBe(200);
    const revokedAt = ApiKey.parse(revoked.body).revoked_at;
    expect(revokedAt).not.toBeNull();
    expect((await request('GET', '/v1/runs', undefined, created.key)).status).toBe(401);
    expect(ApiKey.parse((await request('DELETE', `/v1/admin/keys/${created.key_id}`)).body).revoked_at).toBe(
      revokedAt,
    );
    expect((await request('DELETE', `/v1/admin/keys/${other.adminKey.keyId}`)).status).toBe(404);
    expect((await request('GET', '/v1/runs', undefined, other.adminKey.key)).status).toBe(200);
    expect((await request('DELETE', '/v1/admin/keys/not-a-uuid')).status).toBe(400);
  });
});

describe('the audit log over HTTP', () => {
  it('lists the admin changes newest first, with the acting key, and pages', async () => {
    const page = AuditPage.parse((await request('GET', '/v1/audit?limit=3')).body);
    expect(page.data.map((r) => r.seq)).toEqual([...page.data.map((r) => r.seq)].sort((a, b) => b - a));
    expect(page.next_cursor).not.toBeNull();
    const next = AuditPage.parse((await request('GET', `/v1/audit?limit=3&cursor=${page.next_cursor}`)).body);
    expect(next.data[0]!.seq).toBe(page.data[2]!.seq - 1);
    const all = AuditPage.parse((await request('GET', '/v1/audit?limit=1000')).body).data;
    const actions = new Set(all.map((r) => r.action));
    for (const a of [
      'tenant.created',
      'project.created',
      'project.retention_set',
      'key.created',
      'key.revoked',
    ]) {
      expect(actions).toContain(a);
    }
    expect(all.find((r) => r.action === 'key.revoked')!.actor_key_id).toBe(tenant.adminKey.keyId);
    expect(JSON.stringify(all)).not.toMatch(/art_[A-Za-z0-9_-]{20,}/);
    const revocations = AuditPage.parse((await request('GET', '/v1/audit?action=key.revoked')).body).data;
    expect(revocations.every((r) => r.action === 'key.revoked')).toBe(true);
  });

  it.each([
    ['cursor=nope', 'cursor'],
    ['limit=0', 'limit'],
    ['actor=me', 'actor'],
    ['action=DROP', 'action'],
  ])('refuses ?%s with 400 naming %s', async (query, field) => {
    const res = await request('GET', `/v1/audit?${query}`);
    expect(res.status).toBe(400);
    expect(Object.keys(errorOf(res.body).details ?? {})).toContain(field);
  });

  it("verifies the tenant's chain, and names a row edited behind its back", async () => {
    expect(AuditVerification.parse((await request('GET', '/v1/audit:verify')).body)).toMatchObject({
      ok: true,
      problems: [],
    });
    await db.pool.query(`UPDATE audit_log SET target = 'someone-else' WHERE tenant_id = $1 AND seq = 2`, [
      tenant.tenantId,
    ]);
    const report = AuditVerification.parse((await request('GET', '/v1/audit:verify')).body);
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([expect.objectContaining({ seq: 2, problem: 'edited' })]);
    // Another tenant's chain is its own, and intact.
    expect(
      AuditVerification.parse((await request('GET', '/v1/audit:verify', undefined, other.adminKey.key)).body)
        .ok,
    ).toBe(true);
    expect((await request('GET', '/v1/audit:verify?deep=1')).status).toBe(400);
  });
});
