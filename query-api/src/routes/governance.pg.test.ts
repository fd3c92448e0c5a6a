import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  Approval,
  AuditRecord,
  argsHash,
  DecisionResult,
  ErrorEnvelope,
  listOf,
  newClaims,
  Policy,
  signDecisionToken,
  verifyDecisionToken,
} from '@agentrace/schemas';
import { createKey, createTenant, inTransaction, type NewTenant, rotateSigningKey } from '@agentrace/store';
import { createTestDatabase, type TestDatabase } from '@agentrace/store/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createQueryApp } from '../query-app.ts';
import { type ListeningQueryApp, listenQueryApp } from '../testing/listen-query-app.ts';

let db: TestDatabase;
let app: ListeningQueryApp;
let base: string;
let tenant: NewTenant;
let other: NewTenant;
let approverKey: string;
let viewerKey: string;
let otherProjectIngestKey: string;
let prodRun: string;
let devRun: string;
let otherRun: string;

const PublicKey = z.object({ key_id: z.uuid(), algorithm: z.literal('Ed25519'), public_key: z.string() });
const PublicKeys = PublicKey.extend({
  keys: z.array(z.object({ key_id: z.uuid(), public_key: z.string(), retired_at: z.string().nullable() })),
});
const Policies = z.object({ data: z.array(Policy) });
const Approvals = z.object({ data: z.array(Approval) });
const AuditPage = listOf(AuditRecord);

const insertRun = async (t: NewTenant, tags: Record<string, string>, projectId = t.projectId) => {
  const id = randomUUID();
  await db.pool.query(
    `INSERT INTO run (tenant_id, id, project_id, name, status, started_at, tags) VALUES ($1, $2, $3, 'r', 'running', now(), $4)`,
    [t.tenantId, id, projectId, JSON.stringify(tags)],
  );
  return id;
};

beforeAll(async () => {
  db = await createTestDatabase();
  tenant = await createTenant(db.pool, 'gov');
  other = await createTenant(db.pool, 'other');
  approverKey = (await createKey(db.pool, { tenantId: tenant.tenantId, kind: 'user', role: 'approver' })).key;
  viewerKey = (await createKey(db.pool, { tenantId: tenant.tenantId, kind: 'user', role: 'viewer' })).key;
  const secondProject = randomUUID();
  await db.pool.query(`INSERT INTO project (id, tenant_id, name) VALUES ($1, $2, 'second')`, [
    secondProject,
    tenant.tenantId,
  ]);
  otherProjectIngestKey = (
    await createKey(db.pool, { tenantId: tenant.tenantId, kind: 'ingest', projectId: secondProject })
  ).key;
  prodRun = await insertRun(tenant, { env: 'prod' });
  devRun = await insertRun(tenant, { env: 'dev' });
  otherRun = await insertRun(other, { env: 'prod' });
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
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as unknown };
}
const errorOf = (body: unknown) => ErrorEnvelope.parse(body).error;
const decide = async (runId: string, tool_name: string, args: unknown, key = tenant.ingestKey.key) => {
  const res = await request('POST', '/v1/decisions', { run_id: runId, tool_name, args }, key);
  expect(res.status).toBe(200);
  return DecisionResult.parse(res.body);
};
const publicKey = async () =>
  PublicKey.parse((await request('GET', '/v1/decisions/public-key')).body).public_key;

const DOCUMENT = {
  default: 'require_approval',
  rules: [
    { id: 'read', tool: 'search*', effect: 'allow' },
    { id: 'no-prod-delete', tool: 'delete_*', tags: { env: 'prod' }, effect: 'block', reason: 'not in prod' },
    {
      id: 'small-refund',
      tool: 'refund',
      args: [{ path: '$.amount', op: 'lte', value: 50 }],
      effect: 'allow',
    },
  ],
};

describe('policies', () => {
  it('deny every call while the project has no active policy', async () => {
    const d = await decide(prodRun, 'search', {});
    expect(d).toMatchObject({ decision: 'deny', token: null, policy_id: null });
  });

  it('are versions: created inactive, activated one at a time, audited', async () => {
    const first = await request('POST', '/v1/policies', {
      project_id: tenant.projectId,
      document: { default: 'block', rules: [] },
    });
    expect(first.status).toBe(201);
    const v1 = Policy.parse(first.body);
    const v2 = Policy.parse(
      (await request('POST', '/v1/policies', { project_id: tenant.projectId, document: DOCUMENT })).body,
    );
    expect([v1.version, v2.version, v1.active, v2.active]).toEqual([1, 2, false, false]);

    expect(Policy.parse((await request('POST', `/v1/policies/${v1.policy_id}:activate`)).body).active).toBe(
      true,
    );
    expect((await decide(prodRun, 'search', {})).decision).toBe('deny');
    expect(Policy.parse((await request('POST', `/v1/policies/${v2.policy_id}:activate`)).body).active).toBe(
      true,
    );
    const listed = Policies.parse(
      (await request('GET', `/v1/policies?project_id=${tenant.projectId}`, undefined, viewerKey)).body,
    ).data;
    expect(listed.map((p) => [p.version, p.active])).toEqual([
      [2, true],
      [1, false],
    ]);
    const audit = AuditPage.parse((await request('GET', '/v1/audit?action=policy.activated')).body).data;
    expect(audit.map((a) => a.target)).toEqual([v2.policy_id, v1.policy_id]);
    expect(audit[0]!.details).toMatchObject({ replaced: v1.policy_id, version: 2 });
  });

  it.each([
    [{ project_id: 'PROJECT', document: { default: 'maybe', rules: [] } }, 'document.default'],
    [
      {
        project_id: 'PROJECT',
        document: {
          default: 'allow',
          rules: [{ id: 'x', tool: 't', effect: 'allow', args: [{ path: 'x', op: 'equals', value: 1 }] }],
        },
      },
      'document.rules[0].args[0].path',
    ],
    [{ document: { default: 'allow', rules: [] } }, 'project_id'],
  ])('refuse an invalid version %j with 400 naming %s', async (body, field) => {
    const sent = JSON.parse(JSON.stringify(body).replace('PROJECT', tenant.projectId));
    const res = await request('POST', '/v1/policies', sent);
    expect(res.status).toBe(400);
    expect(Object.keys(errorOf(res.body).details ?? {})).toContain(field);
  });

  it("answer 404 for another tenant's project or policy", async () => {
    const res = await request('POST', '/v1/policies', { project_id: other.projectId, document: DOCUMENT });
    expect(res.status).toBe(404);
    const theirs = Policy.parse(
      (
        await request(
          'POST',
          '/v1/policies',
          { project_id: other.projectId, document: DOCUMENT },
          other.adminKey.key,
        )
      ).body,
    );
    expect((await request('POST', `/v1/policies/${theirs.policy_id}:activate`)).status).toBe(404);
    expect(
      Policies.parse((await request('GET', '/v1/policies')).body).data.map((p) => p.policy_id),
    ).not.toContain(theirs.policy_id);
  });

  it('may only be created and activated by admins', async () => {
    const res = await request(
      'POST',
      '/v1/policies',
      { project_id: tenant.projectId, document: DOCUMENT },
      approverKey,
    );
    expect([res.status, errorOf(res.body).code]).toEqual([403, 'permission_denied']);
  });
});

describe('decisions', () => {
  it('allow with an Ed25519 token bound to the run, tool and canonical arguments', async () => {
    const args = { query: 'shoes', filters: { size: 42, color: 'red' } };
    const d = await decide(prodRun, 'search_products', args);
    expect(d).toMatchObject({ decision: 'allow', rule_id: 'read', approval_id: null });
    const check = verifyDecisionToken(d.token!, await publicKey());
    expect(check.ok).toBe(true);
    if (!check.ok) return;
    expect(check.claims).toMatchObject({
      token_id: d.token_id,
      tenant_id: tenant.tenantId,
      project_id: tenant.projectId,
      run_id: prodRun,
      tool_name: 'search_products',
      decision: 'allow',
      args_sha256: argsHash({ filters: { color: 'red', size: 42 }, query: 'shoes' }),
    });
    expect(check.claims.exp * 1000).toBe(Date.parse(d.expires_at!));
    expect(check.claims.exp - check.claims.iat).toBe(300);
    // A second allow is another token with another nonce.
    const again = verifyDecisionToken(
      (await decide(prodRun, 'search_products', args)).token!,
      await publicKey(),
    );
    expect(
      again.ok &&
        again.claims.nonce !== check.claims.nonce &&
        again.claims.token_id !== check.claims.token_id,
    ).toBe(true);
  });

  it('allow by an argument condition, and fall to the default when it fails', async () => {
    expect((await decide(devRun, 'refund', { amount: 10 })).decision).toBe('allow');
    expect((await decide(devRun, 'refund', { amount: 10.5e3 })).decision).toBe('pending');
  });

  it('deny a blocked call with the matching rule, by run tag', async () => {
    expect(await decide(prodRun, 'delete_user', { id: 1 })).toMatchObject({
      decision: 'deny',
      token: null,
      approval_id: null,
      rule_id: 'no-prod-delete',
      reason: 'not in prod',
    });
    expect((await decide(devRun, 'delete_user', { id: 1 })).decision).toBe('pending');
  });

  it('are pending with a new approval when the policy requires one', async () => {
    const d = await decide(prodRun, 'send_email', { to: 'x@y.z' });
    expect(d).toMatchObject({ decision: 'pending', token: null, rule_id: null });
    const approval = Approval.parse(
      (await request('GET', `/v1/approvals/${d.approval_id}`, undefined, viewerKey)).body,
    );
    expect(approval).toMatchObject({
      status: 'pending',
      run_id: prodRun,
      tool_name: 'send_email',
      args: { to: 'x@y.z' },
      args_sha256: argsHash({ to: 'x@y.z' }),
      requested_by: tenant.ingestKey.keyId,
    });
  });

  it('are answered for admins too, and refused to viewers', async () => {
    expect((await decide(prodRun, 'search', {}, tenant.adminKey.key)).decision).toBe('allow');
    const res = await request(
      'POST',
      '/v1/decisions',
      { run_id: prodRun, tool_name: 'search', args: {} },
      viewerKey,
    );
    expect(res.status).toBe(403);
  });

  it("answer 404 for another tenant's run, or another project's run for an ingest key", async () => {
    for (const [runId, key] of [
      [otherRun, tenant.ingestKey.key],
      [prodRun, otherProjectIngestKey],
      [randomUUID(), tenant.ingestKey.key],
    ] as const) {
      const res = await request(
        'POST',
        '/v1/decisions',
        { run_id: runId, tool_name: 'search', args: {} },
        key,
      );
      expect([res.status, errorOf(res.body).code]).toEqual([404, 'not_found']);
    }
  });

  it('tokens fail verification when forged, altered, or checked with another key', async () => {
    const d = await decide(prodRun, 'search', { q: 1 });
    const pem = await publicKey();
    const [body, signature] = d.token!.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString());
    const altered = `${Buffer.from(JSON.stringify({ ...claims, tool_name: 'delete_user' })).toString('base64url')}.${signature}`;
    expect(verifyDecisionToken(altered, pem)).toEqual({ ok: false, reason: 'bad signature' });
    const forger = generateKeyPairSync('ed25519', {
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    const forged = signDecisionToken(
      newClaims({ ...claims, tool_name: 'delete_user' }, 300),
      forger.privateKey,
    );
    expect(verifyDecisionToken(forged, pem)).toEqual({ ok: false, reason: 'bad signature' });
    expect(verifyDecisionToken(forged, forger.publicKey).ok).toBe(true);
    expect(verifyDecisionToken(d.token!, forger.publicKey).ok).toBe(false);
    expect(verifyDecisionToken('nonsense', pem).ok).toBe(false);
    expect(verifyDecisionToken(d.token!, pem, Date.now() + 301_000)).toEqual({
      ok: false,
      reason: 'expired',
    });
  });

  it('are signed with the same key after a restart of the app (the key pair is in the database)', async () => {
    const before = await publicKey();
    const again = createQueryApp({ pool: db.pool, logger: pino({ level: 'silent' }) }).listen(0, '127.0.0.1');
    await new Promise((resolve) => again.once('listening', resolve));
    try {
      const url = `http://127.0.0.1:${(again.address() as AddressInfo).port}/v1/decisions/public-key`;
      const res = await fetch(url, { headers: { authorization: `Bearer ${tenant.ingestKey.key}` } });
      expect(PublicKey.parse(await res.json()).public_key).toBe(before);
    } finally {
      await new Promise((resolve) => again.close(resolve));
    }
  });
});

describe('approvals', () => {
  const pending = async (args: unknown = { to: 'a@b.c' }) =>
    (await decide(prodRun, 'send_email', args)).approval_id!;

  it('approved by an approver turn into a token for the requested call, audited', async () => {
    const id = await pending({ to: 'boss@b.c' });
    const res = await request('POST', `/v1/approvals/${id}:approve`, { comment: 'ok, once' }, approverKey);
    expect(res.status).toBe(200);
    const approval = Approval.parse(res.body);
    expect(approval).toMatchObject({ status: 'approved', comment: 'ok, once' });
    const check = verifyDecisionToken(approval.token!, await publicKey());
    expect(check.ok && check.claims).toMatchObject({
      token_id: approval.token_id,
      run_id: prodRun,
      tool_name: 'send_email',
      args_sha256: argsHash({ to: 'boss@b.c' }),
    });
    expect(Approval.parse((await request('GET', `/v1/approvals/${id}`)).body).token).toBe(approval.token);
    const again = await request(
      'POST',
      `/v1/approvals/${id}:deny`,
      { comment: 'changed my mind' },
      approverKey,
    );
    expect([again.status, errorOf(again.body).code]).toEqual([409, 'conflict']);
    const audit = AuditPage.parse((await request('GET', '/v1/audit?action=approval.approved')).body).data;
    expect(audit[0]).toMatchObject({
      target: id,
      details: { comment: 'ok, once', token_id: approval.token_id },
    });
  });

  it('denied by an admin are final, without a token, audited', async () => {
    const id = await pending();
    const approval = Approval.parse(
      (await request('POST', `/v1/approvals/${id}:deny`, { comment: 'no' })).body,
    );
    expect(approval).toMatchObject({
      status: 'denied',
      token: null,
      token_id: null,
      decided_by: tenant.adminKey.keyId,
    });
    const audit = AuditPage.parse((await request('GET', '/v1/audit?action=approval.denied')).body).data;
    expect(audit[0]?.target).toBe(id);
  });

  it('need a comment and an approver', async () => {
    const id = await pending();
    expect((await request('POST', `/v1/approvals/${id}:approve`, {}, approverKey)).status).toBe(400);
    expect((await request('POST', `/v1/approvals/${id}:approve`, { comment: 'x' }, viewerKey)).status).toBe(
      403,
    );
    expect(
      (await request('POST', `/v1/approvals/${id}:approve`, { comment: 'x' }, tenant.ingestKey.key)).status,
    ).toBe(403);
  });

  it('may not be decided by the key that requested them', async () => {
    const id = (await decide(prodRun, 'send_email', {}, tenant.adminKey.key)).approval_id!;
    const res = await request('POST', `/v1/approvals/${id}:approve`, { comment: 'self' });
    expect([res.status, errorOf(res.body).code]).toEqual([403, 'permission_denied']);
  });

  it('past their time are expired and can no longer be approved', async () => {
    const id = await pending();
    await db.pool.query(`UPDATE approval SET expires_at = now() - interval '1 second' WHERE id = $1`, [id]);
    expect(Approval.parse((await request('GET', `/v1/approvals/${id}`)).body).status).toBe('expired');
    const res = await request('POST', `/v1/approvals/${id}:approve`, { comment: 'late' }, approverKey);
    expect([res.status, errorOf(res.body).code]).toEqual([409, 'conflict']);
    const listed = Approvals.parse((await request('GET', '/v1/approvals?status=expired')).body).data;
    expect(listed.map((a) => a.approval_id)).toContain(id);
    expect(
      Approvals.parse((await request('GET', '/v1/approvals?status=pending')).body).data.map(
        (a) => a.approval_id,
      ),
    ).not.toContain(id);
  });

  it('list by status, newest first', async () => {
    const id = await pending();
    const listed = Approvals.parse(
      (await request('GET', '/v1/approvals?status=pending', undefined, viewerKey)).body,
    ).data;
    expect(listed[0]?.approval_id).toBe(id);
    expect(listed.every((a) => a.status === 'pending')).toBe(true);
    const approved = Approvals.parse((await request('GET', '/v1/approvals?status=approved')).body).data;
    expect(approved.length).toBeGreaterThan(0);
    expect(approved.every((a) => a.status === 'approved')).toBe(true);
    expect((await request('GET', '/v1/approvals?status=maybe')).status).toBe(400);
  });

  it("answer 404 for another tenant's approval", async () => {
    const id = await pending();
    for (const [method, path, body] of [
      ['GET', `/v1/approvals/${id}`, undefined],
      ['POST', `/v1/approvals/${id}:approve`, { comment: 'mine now' }],
      ['POST', `/v1/approvals/${id}:deny`, { comment: 'mine now' }],
    ] as const) {
      const res = await request(method, path, body, other.adminKey.key);
      expect([res.status, errorOf(res.body).code]).toEqual([404, 'not_found']);
    }
    expect(
      Approvals.parse((await request('GET', '/v1/approvals', undefined, other.adminKey.key)).body).data,
    ).toEqual([]);
    expect(Approval.parse((await request('GET', `/v1/approvals/${id}`)).body).status).toBe('pending');
  });
});

describe('break-glass', () => {
  const breakGlass = (body: unknown, key = tenant.adminKey.key) =>
    request('POST', '/v1/decisions:break-glass', body, key);

  it('lets an admin force-allow a blocked call with a marked token, audited with the reason', async () => {
    expect((await decide(prodRun, 'delete_user', { id: 7 })).decision).toBe('deny');
    const res = await breakGlass({
      run_id: prodRun,
      tool_name: 'delete_user',
      args: { id: 7 },
      reason: 'incident 42',
    });
    expect(res.status).toBe(200);
    const d = DecisionResult.parse(res.body);
    expect(d).toMatchObject({ decision: 'allow', rule_id: null, reason: 'incident 42', approval_id: null });
    const check = verifyDecisionToken(d.token!, await publicKey());
    expect(check.ok && check.claims).toMatchObject({
      break_glass: true,
      token_id: d.token_id,
      tool_name: 'delete_user',
      args_sha256: argsHash({ id: 7 }),
    });
    const audit = AuditPage.parse((await request('GET', '/v1/audit?action=decision.break_glass')).body).data;
    expect(audit[0]).toMatchObject({
      target: d.token_id,
      actor_key_id: tenant.adminKey.keyId,
      details: { run_id: prodRun, tool_name: 'delete_user', reason: 'incident 42' },
    });
  });

  it.each([
    [{ run_id: 'RUN', tool_name: 'delete_user', args: {} }, 'reason'],
    [{ run_id: 'RUN', tool_name: 'delete_user', args: {}, reason: '  ' }, 'reason'],
    [{ run_id: 'nope', tool_name: 'delete_user', args: {}, reason: 'x' }, 'run_id'],
  ])('refuses %j with 400 naming %s', async (body, field) => {
    const res = await breakGlass(JSON.parse(JSON.stringify(body).replace('RUN', prodRun)));
    expect([res.status, errorOf(res.body).code]).toEqual([400, 'invalid_argument']);
    expect(Object.keys(errorOf(res.body).details ?? {})).toContain(field);
  });

  it("is for admins only, and answers 404 for another tenant's run", async () => {
    const body = { run_id: prodRun, tool_name: 'delete_user', args: {}, reason: 'x' };
    for (const key of [approverKey, viewerKey, tenant.ingestKey.key]) {
      const res = await breakGlass(body, key);
      expect([res.status, errorOf(res.body).code]).toEqual([403, 'permission_denied']);
    }
    const res = await breakGlass({ ...body, run_id: otherRun });
    expect([res.status, errorOf(res.body).code]).toEqual([404, 'not_found']);
  });
});

describe('lifetimes', () => {
  it('of approvals and tokens follow the app options', async () => {
    const short = await listenQueryApp(db.pool, {
      governance: { approvalTtlSeconds: 90, tokenTtlSeconds: 30 },
    });
    try {
      const post = async (tool_name: string) => {
        const res = await fetch(`${short.base}/v1/decisions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${tenant.ingestKey.key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ run_id: prodRun, tool_name, args: {} }),
        });
        return DecisionResult.parse(await res.json());
      };
      const pendingOne = await post('send_email');
      const approval = Approval.parse((await request('GET', `/v1/approvals/${pendingOne.approval_id}`)).body);
      expect(Date.parse(approval.expires_at) - Date.parse(approval.created_at)).toBeCloseTo(90_000, -2);
      const allowed = verifyDecisionToken((await post('search')).token!, await publicKey());
      expect(allowed.ok && allowed.claims.exp - allowed.claims.iat).toBe(30);
    } finally {
      await short.close();
    }
  });
});

describe('access to governance endpoints', () => {
  type Who = 'ingest' | 'other project ingest' | 'viewer' | 'approver' | 'admin';
  const WHO: Who[] = ['ingest', 'other project ingest', 'viewer', 'approver', 'admin'];
  const keyOf = (who: Who) =>
    ({
      ingest: tenant.ingestKey.key,
      'other project ingest': otherProjectIngestKey,
      viewer: viewerKey,
      approver: approverKey,
      admin: tenant.adminKey.key,
    })[who];
  const pendingPath = async (action: string) =>
    `/v1/approvals/${(await decide(prodRun, 'send_email', { n: randomUUID() })).approval_id}${action}`;
  const aPolicy = async () =>
    Policy.parse(
      (await request('POST', '/v1/policies', { project_id: tenant.projectId, document: DOCUMENT })).body,
    ).policy_id;
  const decision = { run_id: 'RUN', tool_name: 'search', args: {} };
  // Each row: the request, then the status per caller in WHO order.
  const TABLE: [string, string | ((a: string) => Promise<string>), unknown, number[]][] = [
    ['GET', '/v1/policies', undefined, [403, 403, 200, 200, 200]],
    [
      'POST',
      '/v1/policies',
      { project_id: 'PROJECT', document: { default: 'allow', rules: [] } },
      [403, 403, 403, 403, 201],
    ],
    ['POST', async () => `/v1/policies/${await aPolicy()}:activate`, undefined, [403, 403, 403, 403, 200]],
    ['POST', '/v1/decisions', decision, [200, 404, 403, 403, 200]],
    ['POST', '/v1/decisions:break-glass', { ...decision, reason: 'r' }, [403, 403, 403, 403, 200]],
    ['GET', '/v1/decisions/public-key', undefined, [200, 200, 200, 200, 200]],
    ['GET', '/v1/approvals?status=pending', undefined, [403, 403, 200, 200, 200]],
    ['GET', () => pendingPath(''), undefined, [200, 404, 200, 200, 200]],
    ['POST', () => pendingPath(':approve'), { comment: 'ok' }, [403, 403, 403, 200, 200]],
    ['POST', () => pendingPath(':deny'), { comment: 'no' }, [403, 403, 403, 200, 200]],
  ];
  it.each(TABLE)('%s %s', async (method, path, body, statuses) => {
    for (const [i, who] of WHO.entries()) {
      const concrete = typeof path === 'string' ? path : await path('');
      const sent =
        body === undefined
          ? undefined
          : JSON.parse(JSON.stringify(body).replace('RUN', prodRun).replace('PROJECT', tenant.projectId));
      const res = await request(method, concrete, sent, keyOf(who));
      expect([who, res.status]).toEqual([who, statuses[i]]);
      if (res.status === 403) expect(errorOf(res.body).code).toBe('permission_denied');
    }
  });
});

describe('signing key rotation', () => {
  it('signs new tokens with the new key while tokens of the retired one still verify by kid', async () => {
    const beforeToken = (await decide(prodRun, 'search', {})).token!;
    const before = verifyDecisionToken(beforeToken, await publicKey());
    const rotated = await inTransaction(db.pool, rotateSigningKey);
    expect(rotated.retiredKeyId).toBe(before.ok && before.claims.kid);
    const keys = PublicKeys.parse(
      (await request('GET', '/v1/decisions/public-key', undefined, tenant.ingestKey.key)).body,
    );
    expect(keys.key_id).toBe(rotated.key.id);
    expect(keys.keys.map((k) => [k.key_id, k.retired_at === null])).toEqual(
      expect.arrayContaining([
        [rotated.key.id, true],
        [rotated.retiredKeyId, false],
      ]),
    );
    const after = await decide(prodRun, 'search', {});
    const check = verifyDecisionToken(after.token!, keys.public_key);
    expect(check.ok && check.claims.kid).toBe(rotated.key.id);
    const old = keys.keys.find((k) => k.key_id === rotated.retiredKeyId)!;
    expect(verifyDecisionToken(beforeToken, old.public_key).ok).toBe(true);
    expect(verifyDecisionToken(after.token!, old.public_key).ok).toBe(false);
    const audit = AuditPage.parse((await request('GET', '/v1/audit?action=signing_key.rotated')).body).data;
    expect(audit[0]).toMatchObject({
      target: rotated.key.id,
      details: { retired_key_id: rotated.retiredKeyId },
    });
  });
});

describe('waiting on an approval', () => {
  const pendingId = async () => (await decide(prodRun, 'send_email', { n: randomUUID() })).approval_id!;
  const waitFor = (id: string, wait: string) =>
    request('GET', `/v1/approvals/${id}?wait=${wait}`, undefined, viewerKey);

  it('answers as soon as the request is decided, not at the end of the wait', async () => {
    const id = await pendingId();
    const started = Date.now();
    const waiting = waitFor(id, '20s');
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(
      (await request('POST', `/v1/approvals/${id}:approve`, { comment: 'go' }, approverKey)).status,
    ).toBe(200);
    const res = await waiting;
    expect(Approval.parse(res.body)).toMatchObject({ status: 'approved', comment: 'go' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('answers pending when nothing happened within the wait', async () => {
    const started = Date.now();
    const res = await waitFor(await pendingId(), '300ms');
    expect(Approval.parse(res.body).status).toBe('pending');
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    // Nobody waits any more: the listening connection goes back to the pool, unlistened (soon after).
    const listening = async () =>
      (
        await db.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'`,
        )
      ).rows[0]!.n;
    for (let i = 0; i < 50 && (await listening()) > 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await listening()).toBe(0);
  });

  it('is woken by a decision made through another server process', async () => {
    const elsewhere = await listenQueryApp(db.pool);
    try {
      const id = await pendingId();
      const started = Date.now();
      const waiting = waitFor(id, '20s');
      await new Promise((resolve) => setTimeout(resolve, 150));
      const res = await fetch(`${elsewhere.base}/v1/approvals/${id}:approve`, {
        method: 'POST',
        headers: { authorization: `Bearer ${approverKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ comment: 'from the other one' }),
      });
      expect(res.status).toBe(200);
      expect(Approval.parse((await waiting).body).status).toBe('approved');
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await elsewhere.close();
    }
  });

  it('answers a decided request at once', async () => {
    const id = await pendingId();
    await request('POST', `/v1/approvals/${id}:deny`, { comment: 'no' }, approverKey);
    const started = Date.now();
    expect(Approval.parse((await waitFor(id, '20s')).body).status).toBe('denied');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('wakes at the expiry, which it settles once: audited, and an approval step of the run', async () => {
    const id = await pendingId();
    await db.pool.query(
      `UPDATE approval SET expires_at = now() + interval '300 milliseconds' WHERE id = $1`,
      [id],
    );
    const started = Date.now();
    const res = await waitFor(id, '20s');
    expect(Approval.parse(res.body).status).toBe('expired');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(Approval.parse((await request('GET', `/v1/approvals/${id}`)).body).status).toBe('expired');
    const audit = AuditPage.parse((await request('GET', '/v1/audit?action=approval.expired')).body).data;
    expect(audit.filter((a) => a.target === id)).toHaveLength(1);
    const { rows } = await db.pool.query(
      `SELECT payload FROM step WHERE run_id = $1 AND type = 'approval' AND payload->'input'->>'approval_id' = $2`,
      [prodRun, id],
    );
    expect(rows.map((r) => r.payload.output.status)).toEqual(['expired']);
  });

  it.each(['forever', '61s', '-1s', '5m'])('refuses wait=%s with 400', async (wait) => {
    const res = await waitFor(await pendingId(), wait);
    expect([res.status, errorOf(res.body).code]).toEqual([400, 'invalid_argument']);
    expect(errorOf(res.body).details).toHaveProperty('wait');
  });

  it("answers 404 for another tenant's approval, without waiting", async () => {
    const id = await pendingId();
    const res = await request('GET', `/v1/approvals/${id}?wait=20s`, undefined, other.adminKey.key);
    expect([res.status, errorOf(res.body).code]).toEqual([404, 'not_found']);
  });
});
