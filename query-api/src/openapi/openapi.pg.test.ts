import { randomBytes, randomUUID } from 'node:crypto';
import { ENDPOINTS, routePathParts } from '@agentrace/schemas';
import { writeSteps } from '@agentrace/store';
import { stepRecord } from '@agentrace/store/testing';
import { validate } from '@readme/openapi-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type QueryTestApp, startQueryTestApp } from '../testing/query-test-app.ts';
import { apiParamName } from './openapi-document.ts';

type Json = Record<string, unknown>;
interface Parameter {
  name: string;
  in: string;
  required: boolean;
  schema: Json;
}
interface Operation {
  operationId: string;
  parameters: Parameter[];
  responses: Record<string, { $ref?: string; content?: Json }>;
  servers?: { url: string }[];
  security?: unknown[];
  'x-agentrace-access': unknown;
  'x-agentrace-events'?: unknown;
}
interface Document {
  openapi: string;
  servers: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
}

let app: QueryTestApp;
let viewerKey: string;
let doc: Document;
const runId = randomUUID();

/** The document as JSON Schema to validate against: `openapi.json#/<pointer>` reaches any part of it. */
let ajv: Ajv2020;

beforeAll(async () => {
  app = await startQueryTestApp();
  const issued = await fetch(`${app.base}/v1/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${app.tenant.adminKey.key}` },
    body: JSON.stringify({ kind: 'user', role: 'viewer' }),
  });
  expect(issued.status).toBe(201);
  viewerKey = ((await issued.json()) as { key: string }).key;
  const ids = {
    tenantId: app.tenant.tenantId,
    projectId: app.tenant.projectId,
    runId,
    traceId: randomBytes(16),
  };
  const root = stepRecord({ ...ids, type: 'agent', name: 'root', run: { isRoot: true } });
  await writeSteps(app.db.pool, [
    root,
    stepRecord({
      ...ids,
      type: 'tool',
      name: 'search',
      parentSpanId: root.spanId,
      status: 'error',
      invocation: {
        kind: 'tool',
        target: 'search',
        toolName: 'search',
        success: false,
        errorType: 'timeout',
        latencyMs: 30,
      },
    }),
  ]);
  const res = await app.get('/v1/openapi.json', viewerKey);
  expect(res.status).toBe(200);
  doc = res.body as Document;
  ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema(doc, 'openapi.json');
});
afterAll(() => app?.close());

const pointer = (...parts: string[]) =>
  parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

/** The operation of `method path`; a failure when the document lacks it. */
function op(path: string, method: string): Operation {
  const found = doc.paths[path]?.[method];
  if (!found) throw new Error(`the document has no ${method} ${path}`);
  return found;
}

const errorCode = (body: unknown) => (body as { error: { code: string } }).error.code;

/** Validates `body` against the documented JSON answer of `method path` with `status`. */
function expectDocumented(path: string, method: string, status: number, body: unknown) {
  const response = op(path, method).responses[status];
  if (!response) throw new Error(`${method} ${path} does not document ${status}`);
  // An error answer refers to `#/components/responses/<code>`.
  const at = response.$ref?.slice(2) ?? pointer('paths', path, method, 'responses', String(status));
  const check = ajv.compile({ $ref: `openapi.json#/${at}/content/application~1json/schema` });
  expect(check(body), JSON.stringify(check.errors)).toBe(true);
}

describe('GET /v1/openapi.json', () => {
  it('is served to viewers, refused to ingest keys (403) and to requests without a key (401)', async () => {
    const res = await app.get('/v1/openapi.json', viewerKey);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const ingest = await app.get('/v1/openapi.json', app.tenant.ingestKey.key);
    expect(ingest.status).toBe(403);
    expectDocumented('/v1/openapi.json', 'get', 403, ingest.body);
    expect(errorCode(ingest.body)).toBe('permission_denied');
    const anonymous = await fetch(`${app.base}/v1/openapi.json`);
    expect(anonymous.status).toBe(401);
    expect(errorCode(await anonymous.json())).toBe('unauthenticated');
    const withParameter = await app.get('/v1/openapi.json?x=1', viewerKey);
    expect(withParameter.body).toEqual(doc);
  });

  it('is a valid OpenAPI 3.1 document whose references all resolve', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(doc) as unknown as Parameters<typeof validate>[0]);
    expect(result).toMatchObject({ valid: true });
  });

  it('has every endpoint of the access table, with its path parameters, access, servers and errors', () => {
    for (const endpoint of ENDPOINTS) {
      const { literals, params } = routePathParts(endpoint.path);
      const names = params.map(apiParamName);
      const path = literals.map((l, i) => (i < names.length ? `${l}{${names[i]}}` : l)).join('');
      const operation = op(path, endpoint.method.toLowerCase());
      const name = `${endpoint.app} ${endpoint.method} ${path}`;
      const inPath = operation.parameters.filter((p) => p.in === 'path').map((p) => p.name);
      expect(inPath, name).toEqual(names);
      const access = endpoint.access;
      expect(operation['x-agentrace-access'], name).toEqual(
        access === 'public' ? 'public' : { ingest_keys: access.ingestKeys, min_role: access.minRole },
      );
      expect(operation.security, name).toEqual(access === 'public' ? [] : undefined);
      if (access !== 'public') {
        expect(operation.responses[401]?.$ref, name).toBe('#/components/responses/unauthenticated');
        expect(operation.responses[403]?.$ref, name).toBe('#/components/responses/permission_denied');
      }
      if (params.length > 0) {
        expect(operation.responses[404]?.$ref, name).toBe('#/components/responses/not_found');
      }
      const servers = (operation.servers ?? doc.servers).map((s) => s.url);
      if (endpoint.app === 'receiver') expect(servers, name).toContain('{scheme}://{host}:4318');
      else expect(servers, name).toContain('/');
    }
    const operations = Object.values(doc.paths).flatMap((item) => Object.keys(item));
    expect(operations.length).toBe(new Set(ENDPOINTS.map((e) => `${e.method} ${e.path}`)).size);
    expect(op('/v1/policies/{policy_id}:activate', 'post').operationId).toBe(
      'post_v1_policies_policyId_activate',
    );
    expect(op('/v1/runs', 'post').servers).toHaveLength(1);
    expect(op('/healthz', 'get').servers).toHaveLength(2);
  });

  it("documents each route's query parameters from the schema it parses", () => {
    const runs = op('/v1/runs', 'get').parameters;
    expect(runs.find((p) => p.name === 'limit')).toMatchObject({
      in: 'query',
      required: false,
      schema: { type: 'integer', minimum: 1, maximum: 1000 },
    });
    expect(runs.map((p) => p.name)).toContain('min_cost_usd');
    expect(runs.map((p) => p.name)).not.toContain('tags');
    const stats = op('/v1/invocations/stats', 'get').parameters;
    expect(stats.find((p) => p.name === 'group_by')).toMatchObject({
      required: true,
      schema: { enum: expect.any(Array) },
    });
  });

  it('describes the live stream as text/event-stream with the schema of each event', () => {
    const stream = op('/v1/stream', 'get');
    expect(Object.keys(stream.responses[200]?.content ?? {})).toEqual(['text/event-stream']);
    expect(stream['x-agentrace-events']).toEqual({
      'step.created': { $ref: '#/components/schemas/Step' },
      'run.updated': { $ref: '#/components/schemas/Run' },
      'approval.updated': { $ref: '#/components/schemas/Approval' },
      error: { $ref: '#/components/schemas/ErrorEnvelope' },
    });
    expect(stream.parameters.find((p) => p.in === 'header')?.name).toBe('Last-Event-ID');
  });

  it('tells the truth: real answers validate against the documented schemas', async () => {
    const runs = await app.get('/v1/runs', viewerKey);
    expect((runs.body as { data: unknown[] }).data).toHaveLength(1);
    expectDocumented('/v1/runs', 'get', 200, runs.body);
    expectDocumented('/v1/runs/{run_id}', 'get', 200, (await app.get(`/v1/runs/${runId}`, viewerKey)).body);
    const timeline = await app.get(`/v1/runs/${runId}/timeline`, viewerKey);
    expect((timeline.body as { steps: unknown[] }).steps).toHaveLength(2);
    expectDocumented('/v1/runs/{run_id}/timeline', 'get', 200, timeline.body);
    expectDocumented(
      '/v1/runs/{run_id}/steps',
      'get',
      200,
      (await app.get(`/v1/runs/${runId}/steps`, viewerKey)).body,
    );
    const stats = await app.get('/v1/invocations/stats?group_by=tool', viewerKey);
    expect((stats.body as { data: unknown[] }).data).toHaveLength(1);
    expectDocumented('/v1/invocations/stats', 'get', 200, stats.body);
    expectDocumented('/v1/invocations', 'get', 200, (await app.get('/v1/invocations', viewerKey)).body);
    expectDocumented('/v1/admin/keys', 'get', 200, (await app.get('/v1/admin/keys')).body);
    // With the admin key, the other GET answers of the seeded tenant.
    const answers: [string, string][] = [
      ['/healthz', '/healthz'],
      ['/readyz', '/readyz'],
      [`/v1/diff?runA=${runId}&runB=${runId}`, '/v1/diff'],
      ['/v1/cost?group_by=model', '/v1/cost'],
      ['/v1/policies', '/v1/policies'],
      ['/v1/approvals', '/v1/approvals'],
      ['/v1/decisions/public-key', '/v1/decisions/public-key'],
      ['/v1/audit', '/v1/audit'],
      ['/v1/audit:verify', '/v1/audit:verify'],
      ['/v1/admin/projects', '/v1/admin/projects'],
      ['/v1/admin/backups', '/v1/admin/backups'],
    ];
    for (const [url, path] of answers) {
      const res = await app.get(url);
      expect(res.status, url).toBe(200);
      expectDocumented(path, 'get', 200, res.body);
    }
    const badId = await app.get('/v1/runs/not-a-uuid', viewerKey);
    expect(badId.status).toBe(400);
    expectDocumented('/v1/runs/{run_id}', 'get', 400, badId.body);
    const missing = await app.get(`/v1/runs/${randomUUID()}`, viewerKey);
    expect(missing.status).toBe(404);
    expectDocumented('/v1/runs/{run_id}', 'get', 404, missing.body);
  });

  it('refuses answers that break the documented schemas (the check can fail)', () => {
    const list = ajv.compile({
      $ref: `openapi.json#/${pointer('paths', '/v1/runs', 'get', 'responses', '200', 'content', 'application/json', 'schema')}`,
    });
    expect(list({ data: [], next_cursor: null })).toBe(true);
    expect(list({ data: [{ run_id: randomUUID() }], next_cursor: null })).toBe(false);
    const check = ajv.compile({ $ref: 'openapi.json#/components/schemas/Run' });
    expect(check({ run_id: 'not-a-uuid' })).toBe(false);
    const envelope = ajv.compile({ $ref: 'openapi.json#/components/schemas/ErrorEnvelope' });
    expect(envelope({ error: { code: 'nope', message: 'x', retryable: false } })).toBe(false);
    expect(envelope({ error: { code: 'conflict', message: 'x', retryable: false } })).toBe(true);
  });
});
