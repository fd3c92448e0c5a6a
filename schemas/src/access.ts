import type { Role } from './governance.ts';

/**
 * Who may call an endpoint: nobody needs a key (`public`), or ingest keys (of any project; the handler
 * checks the project) and/or user keys of at least `minRole`.
 */
export type Access = 'public' | { ingestKeys: boolean; minRole: Role | null };

/** The caller as the access check sees it. */
export type Caller = { kind: 'ingest' } | { kind: 'user'; role: Role };

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface Endpoint {
  /** `api`: the query API (8080); `receiver`: the ingest port (4318). */
  app: 'api' | 'receiver';
  method: HttpMethod;
  /** The path as the route is registered in express (`:param`, `\\:` for a literal colon). */
  path: string;
  access: Access;
}

const PUBLIC: Access = 'public';
const INGEST: Access = { ingestKeys: true, minRole: null };
const VIEWER: Access = { ingestKeys: false, minRole: 'viewer' };
const APPROVER: Access = { ingestKeys: false, minRole: 'approver' };
const ADMIN: Access = { ingestKeys: false, minRole: 'admin' };

const ROLE_RANK: Record<Role, number> = { viewer: 1, approver: 2, admin: 3 };

const api = (method: HttpMethod, path: string, access: Access): Endpoint => ({
  app: 'api',
  method,
  path,
  access,
});
const receiver = (method: HttpMethod, path: string, access: Access): Endpoint => ({
  app: 'receiver',
  method,
  path,
  access,
});

/**
 * Every endpoint and who may call it (DESIGN §6): viewers read runs, steps, diffs, invocations, cost,
 * policies and approvals; approvers also approve and deny; admins also manage policies, keys, projects,
 * retention, backups and break-glass, and read the audit log. Ingest keys reach only ingest,
 * `POST /v1/decisions`, the approvals of their project one by one, and the public key that verifies tokens.
 * The query API refuses a route that is not listed here (404), and a test fails for one that is registered
 * without an entry: add the entry with the route, and its description to `GET /v1/openapi.json`
 * (query-api/src/openapi/operations.ts; the query API does not start without one).
 */
export const ENDPOINTS: readonly Endpoint[] = [
  api('GET', '/healthz', PUBLIC),
  api('GET', '/readyz', PUBLIC),
  // Totals of the whole server, no tenant data; AGENTRACE_METRICS_TOKEN, when set, is checked by the route.
  api('GET', '/metrics', PUBLIC),
  api('GET', '/v1/openapi.json', VIEWER),
  api('GET', '/v1/runs', VIEWER),
  api('GET', '/v1/runs/:runId', VIEWER),
  api('GET', '/v1/runs/:runId/steps', VIEWER),
  api('GET', '/v1/runs/:runId/timeline', VIEWER),
  api('GET', '/v1/runs/:runId/export', VIEWER),
  api('GET', '/v1/diff', VIEWER),
  api('GET', '/v1/invocations', VIEWER),
  api('GET', '/v1/invocations/stats', VIEWER),
  api('GET', '/v1/artifacts/:artifactId/invocations', VIEWER),
  api('GET', '/v1/cost', VIEWER),
  api('GET', '/v1/stream', VIEWER),
  api('GET', '/v1/policies', VIEWER),
  api('POST', '/v1/policies', ADMIN),
  api('POST', '/v1/policies/:policyId\\:activate', ADMIN),
  api('POST', '/v1/decisions', { ingestKeys: true, minRole: 'admin' }),
  api('POST', '/v1/decisions\\:break-glass', ADMIN),
  // The gate in the SDK verifies tokens locally, with the ingest key it already has.
  api('GET', '/v1/decisions/public-key', { ingestKeys: true, minRole: 'viewer' }),
  api('GET', '/v1/approvals', VIEWER),
  // The gate in the SDK waits on the approval its decision asked for (the handler checks the project).
  api('GET', '/v1/approvals/:approvalId', { ingestKeys: true, minRole: 'viewer' }),
  api('POST', '/v1/approvals/:approvalId\\:approve', APPROVER),
  api('POST', '/v1/approvals/:approvalId\\:deny', APPROVER),
  api('GET', '/v1/audit', ADMIN),
  api('GET', '/v1/audit\\:verify', ADMIN),
  api('GET', '/v1/admin/projects', ADMIN),
  api('POST', '/v1/admin/projects', ADMIN),
  api('PUT', '/v1/admin/projects/:projectId/retention', ADMIN),
  api('GET', '/v1/admin/keys', ADMIN),
  api('POST', '/v1/admin/keys', ADMIN),
  api('DELETE', '/v1/admin/keys/:keyId', ADMIN),
  api('GET', '/v1/admin/backups', ADMIN),
  api('POST', '/v1/admin/backups', ADMIN),
  receiver('GET', '/healthz', PUBLIC),
  receiver('GET', '/readyz', PUBLIC),
  receiver('GET', '/metrics', PUBLIC), // as on the api
  receiver('POST', '/v1/traces', INGEST),
  receiver('POST', '/v1/runs', INGEST),
  receiver('POST', '/v1/runs/:runId/steps', INGEST),
  receiver('POST', '/v1/runs/:runId\\:finish', INGEST),
];

/**
 * A route path's literal pieces (`\\:` unescaped) and the names of the parameters between them:
 * `/v1/policies/:policyId\\:activate` is `['/v1/policies/', ':activate']` around `['policyId']`.
 */
export function routePathParts(path: string): { literals: string[]; params: string[] } {
  const parts = path.split(/(?<!\\):([A-Za-z_$][\w$]*)/);
  return {
    literals: parts.filter((_, i) => i % 2 === 0).map((literal) => literal.replace(/\\:/g, ':')),
    params: parts.filter((_, i) => i % 2 === 1),
  };
}

/** Whether `caller` may call an endpoint of this access. */
export function permits(access: Access, caller: Caller): boolean {
  if (access === 'public') return true;
  if (caller.kind === 'ingest') return access.ingestKeys;
  return access.minRole !== null && ROLE_RANK[caller.role] >= ROLE_RANK[access.minRole];
}

/** Who may call, in words, for a 403's message. */
export function describeAccess(access: Access): string {
  if (access === 'public') return 'anyone';
  const who = [
    access.ingestKeys ? 'an ingest key' : null,
    access.minRole ? `a user key with role ${access.minRole} or higher` : null,
  ];
  return who.filter(Boolean).join(' or ');
}
