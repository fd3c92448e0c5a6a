import { randomUUID } from 'node:crypto';
import { type Endpoint, ENDPOINTS, ErrorEnvelope, permits } from '@agentrace/schemas';
import { createKey, inTransaction, revokeKey } from '@agentrace/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './testing/test-server.ts';

let s: TestServer;

type Role = 'viewer' | 'approver' | 'admin';
interface Caller {
  name: string;
  /** Who the key authenticates as; none: no live key. */
  as: { kind: 'ingest' } | { kind: 'user'; role: Role } | null;
}
const CALLERS: Caller[] = [
  { name: 'no key', as: null },
  { name: 'a malformed header', as: null },
  { name: 'another scheme', as: null },
  { name: 'an unknown key', as: null },
  { name: 'a revoked admin key', as: null },
  { name: 'an expired admin key', as: null },
  { name: 'an ingest key', as: { kind: 'ingest' } },
  { name: 'a viewer key', as: { kind: 'user', role: 'viewer' } },
  { name: 'an approver key', as: { kind: 'user', role: 'approver' } },
  { name: 'an admin key', as: { kind: 'user', role: 'admin' } },
];
/** The Authorization header of each caller, made in beforeAll. */
const headers = new Map<string, string | undefined>();

beforeAll(async () => {
  // High limits: this file makes hundreds of requests, most of them without a valid key.
  s = await startTestServer({ AGENTRACE_RATE_LIMIT_RPS: '100000', AGENTRACE_RATE_LIMIT_BURST: '100000' });
  const user = async (role: Role) =>
    (await createKey(s.db.pool, { tenantId: s.tenantId, kind: 'user', role })).key;
  const revoked = await createKey(s.db.pool, { tenantId: s.tenantId, kind: 'user', role: 'admin' });
  await inTransaction(s.db.pool, (tx) => revokeKey(tx, s.tenantId, revoked.keyId, null));
  const expired = await createKey(s.db.pool, {
    tenantId: s.tenantId,
    kind: 'user',
    role: 'admin',
    expiresAt: '2020-01-01T00:00:00Z',
  });
  headers.set('no key', undefined);
  headers.set('a malformed header', 'Bearer');
  headers.set('another scheme', `Basic ${Buffer.from(`x:${s.adminKey}`).toString('base64')}`);
  headers.set('an unknown key', `Bearer art_${'x'.repeat(43)}`);
  headers.set('a revoked admin key', `Bearer ${revoked.key}`);
  headers.set('an expired admin key', `Bearer ${expired.key}`);
  headers.set('an ingest key', `Bearer ${s.ingestKey}`);
  headers.set('a viewer key', `Bearer ${await user('viewer')}`);
  headers.set('an approver key', `Bearer ${await user('approver')}`);
  headers.set('an admin key', `Bearer ${s.adminKey}`);
});
afterAll(async () => {
  await s?.close();
});

/** A concrete path for a route: each parameter a fresh UUID, escaped colons literal. */
const concrete = (path: string) =>
  path.replace(/(?<!\\):[A-Za-z_$][\w$]*/g, () => randomUUID()).replace(/\\:/g, ':');

/** Calls the endpoint as `caller` (a JSON body for writes) and returns the status and error code, if any. */
async function call(endpoint: Endpoint, caller: Caller): Promise<{ status: number; code: string | null }> {
  const base = endpoint.app === 'api' ? s.apiUrl : s.otlpUrl;
  const authorization = headers.get(caller.name);
  const sent: Record<string, string> = authorization === undefined ? {} : { authorization };
  const write = endpoint.method === 'POST' || endpoint.method === 'PUT';
  if (write) sent['content-type'] = 'application/json';
  const abort = new AbortController();
  const res = await fetch(base + concrete(endpoint.path), {
    method: endpoint.method,
    headers: sent,
    body: write ? '{}' : undefined,
    signal: abort.signal,
  });
  // Streams (SSE) never end: the status is all this test needs of a success.
  const isError = res.status >= 400 && res.headers.get('content-type')?.includes('application/json');
  const body = isError ? ErrorEnvelope.safeParse(await res.json()) : null;
  abort.abort();
  return { status: res.status, code: body?.success ? body.data.error.code : null };
}

/** What the access table expects of a call: 401, 403, or anything else (the endpoint's own answer). */
function expected(endpoint: Endpoint, caller: Caller): 401 | 403 | 'through' {
  if (endpoint.access === 'public') return 'through';
  if (!caller.as) return 401;
  return permits(endpoint.access, caller.as) ? 'through' : 403;
}

describe.each(CALLERS)('$name', (caller) => {
  it('is answered as the access table says on every endpoint: 401 without a live key, 403 for the wrong kind or role', async () => {
    const wrong: string[] = [];
    for (const endpoint of ENDPOINTS) {
      const { status, code } = await call(endpoint, caller);
      const want = expected(endpoint, caller);
      const codeWanted = want === 401 ? 'unauthenticated' : 'permission_denied';
      const ok =
        want === 'through'
          ? status !== 401 && status !== 403
          : status === want && (endpoint.app === 'receiver' || code === codeWanted);
      if (!ok)
        wrong.push(
          `${endpoint.app} ${endpoint.method} ${endpoint.path}: wanted ${want}, got ${status} ${code ?? ''}`,
        );
    }
    expect(wrong).toEqual([]);
  });
});

interface RouterLayer {
  name: string;
  slash?: boolean;
  route?: { path: string; methods: Record<string, boolean> };
  handle: { stack?: RouterLayer[] };
}

/** The (method, path) of every route registered on an express app, through routers mounted at its root. */
function registeredRoutes(app: { router: { stack: RouterLayer[] } }): string[] {
  const walk = (stack: RouterLayer[]): string[] =>
    stack.flatMap((layer) => {
      if (layer.route) {
        const path = layer.route.path;
        return Object.keys(layer.route.methods)
          .filter((m) => m !== '_all')
          .map((m) => `${m.toUpperCase()} ${path}`);
      }
      if (layer.name !== 'router') return [];
      // A router mounted at a prefix would hide it from the paths below: the access table needs full paths.
      if (!layer.slash) throw new Error('a router is mounted at a path prefix; mount it at the root');
      return walk(layer.handle.stack ?? []);
    });
  return walk(app.router.stack);
}

/** Parameter names do not matter: `/v1/runs/:id` is `/v1/runs/:runId`. */
const shape = (route: string) => route.replace(/(?<!\\):[A-Za-z_$][\w$]*/g, ':_');

describe('the access table', () => {
  it.each(['api', 'receiver'] as const)('has an entry for every route registered on the %s', (app) => {
    const routes = registeredRoutes(s.server.apps[app] as unknown as { router: { stack: RouterLayer[] } });
    const listed = new Set(ENDPOINTS.filter((e) => e.app === app).map((e) => shape(`${e.method} ${e.path}`)));
    expect(routes.length).toBeGreaterThan(2);
    expect(routes.filter((r) => !listed.has(shape(r)) && !r.startsWith('HEAD '))).toEqual([]);
  });

  it('lists each endpoint once', () => {
    const keys = ENDPOINTS.map((e) => `${e.app} ${shape(`${e.method} ${e.path}`)}`);
    expect(keys.length).toBe(new Set(keys).size);
  });
});

describe('keys on the wire', () => {
  it('takes a revocation into account on the very next request', async () => {
    const k = await s.api<{ key_id: string; key: string }>('/v1/admin/keys', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'user', role: 'viewer' }),
    });
    expect(k.status).toBe(201);
    expect((await s.api('/v1/runs', { key: k.body.key })).status).toBe(200);
    expect((await s.api(`/v1/admin/keys/${k.body.key_id}`, { method: 'DELETE' })).status).toBe(200);
    const after = await s.api('/v1/runs', { key: k.body.key });
    expect(after.status).toBe(401);
    expect(ErrorEnvelope.parse(after.body).error.code).toBe('unauthenticated');
  });

  it('refuses a header too large to read before anything else (431)', async () => {
    const res = await fetch(`${s.apiUrl}/v1/runs`, {
      headers: { authorization: `Bearer art_${'x'.repeat(20_000)}` },
    });
    expect(res.status).toBe(431);
  });

  it('refuses an oversized but readable token as an unknown key', async () => {
    const res = await s.api('/v1/runs', { key: `art_${'x'.repeat(4000)}` });
    expect(res.status).toBe(401);
  });
});
