import {
  type Access,
  describeAccess,
  ENDPOINTS,
  type Endpoint,
  ErrorCode,
  HTTP_STATUS_OF,
  routePathParts,
} from '@agentrace/schemas';
import { z } from 'zod';
import { type Answer, COMPONENTS, OPERATIONS, type OperationSpec, STREAM_EVENTS } from './operations.ts';

type Json = Record<string, unknown>;

const SERVERS: Record<Endpoint['app'], Json> = {
  api: { url: '/', description: 'the query API (port 8080), which serves this document' },
  receiver: {
    url: '{scheme}://{host}:4318',
    description: 'the receiver (ingest, port 4318)',
    variables: { scheme: { default: 'http', enum: ['http', 'https'] }, host: { default: '127.0.0.1' } },
  },
};

const TAGS = [
  { name: 'runs', description: 'Runs, their steps, timelines, exports and diffs' },
  { name: 'invocations', description: 'Invocations, their statistics and cost' },
  { name: 'stream', description: 'The live stream' },
  { name: 'governance', description: 'Policies, decisions and approvals' },
  { name: 'admin', description: "A tenant admin's audit log, projects, keys and backups" },
  { name: 'operations', description: 'Health, readiness, metrics and this document' },
  {
    name: 'ingest',
    description: 'On the receiver (port 4318, see `servers`): OTLP/HTTP and native REST ingest',
  },
];

const ERROR_MEANING: Record<ErrorCode, string> = {
  invalid_argument: 'a bad parameter, id or body; `details` names each offending field',
  unauthenticated: 'missing, invalid, expired or revoked key',
  permission_denied: 'the key may not call this endpoint',
  not_found: "no such object for the key's tenant (another tenant's objects are not found either)",
  conflict: "the object's state does not allow it",
  payload_too_large: 'the body is above the size limit',
  rate_limited: 'too many requests for the key; retry after `Retry-After` seconds',
  unavailable: 'the database or ingest is unavailable or overloaded; retry after `Retry-After` seconds',
  internal: 'an unexpected error',
};
const CODE_OF_STATUS = new Map(ErrorCode.options.map((code) => [HTTP_STATUS_OF[code], code]));
const RETRY_AFTER = { 'Retry-After': { description: 'seconds to wait', schema: { type: 'integer' } } };

/** `#/components/responses/<code>`: the error envelope, by error code. */
function errorResponses(): Json {
  return Object.fromEntries(
    ErrorCode.options.map((code) => [
      code,
      {
        description: `\`${code}\`: ${ERROR_MEANING[code]}`,
        ...(code === 'rate_limited' || code === 'unavailable' ? { headers: RETRY_AFTER } : {}),
        content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorEnvelope' } } },
      },
    ]),
  );
}

/** Replaces each `$ref` under `node` with `rename($ref)`, in place. */
function renameRefs(node: unknown, rename: (ref: string) => string): void {
  if (Array.isArray(node)) for (const item of node) renameRefs(item, rename);
  else if (node && typeof node === 'object') {
    const object = node as Json;
    if (typeof object.$ref === 'string') object.$ref = rename(object.$ref);
    for (const value of Object.values(object)) renameRefs(value, rename);
  }
}

/**
 * The named schemas as JSON Schema 2020-12 (the dialect of OpenAPI 3.1), in their input form (what a
 * client sends; answers have no transforms, so for them both forms are one). Named schemas inside others
 * are `$ref`s; zod's `__shared` definitions (recursive ones, such as JSON values) become `shared.<name>`.
 */
function componentSchemas(): Json {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(COMPONENTS)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    io: 'input',
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
  });
  const out: Json = {};
  for (const [id, { $schema: _, $id: __, ...schema }] of Object.entries(schemas)) {
    if (id === '__shared') {
      for (const [name, def] of Object.entries(schema.$defs ?? {})) out[`shared.${name}`] = def;
    } else out[id] = schema;
  }
  renameRefs(out, (ref) =>
    ref.replace('#/components/schemas/__shared#/$defs/', '#/components/schemas/shared.'),
  );
  return out;
}

/** A lone schema (a query or path parameter) as JSON Schema, client side. */
function inlineSchema(schema: z.ZodType): Json {
  const { $schema: _, ...json } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json;
  return json;
}

/** The `$ref` of a named schema; a schema that is not in `COMPONENTS` is a mistake in the table. */
const NAME_OF = new Map<z.ZodType, string>(
  Object.entries(COMPONENTS).map(([name, schema]) => [schema, name]),
);
function ref(schema: z.ZodType, where: string): Json {
  const name = NAME_OF.get(schema);
  if (!name) throw new Error(`openapi: a schema of ${where} is not in COMPONENTS`);
  return { $ref: `#/components/schemas/${name}` };
}

/** A path parameter as API.md names it (`run_id`), from its express name (`runId`). */
export const apiParamName = (expressName: string): string =>
  expressName.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function parameters(key: string, spec: OperationSpec, pathParams: string[]): Json[] {
  for (const name of Object.keys(spec.params ?? {})) {
    if (!pathParams.includes(name)) throw new Error(`openapi: ${key} has no path parameter ${name}`);
  }
  const path = pathParams.map((name) => ({
    name: apiParamName(name),
    in: 'path',
    required: true,
    schema: spec.params?.[name] ? inlineSchema(spec.params[name]) : { type: 'string' },
  }));
  const query = spec.query ? inlineSchema(spec.query) : {};
  const required = new Set((query.required as string[] | undefined) ?? []);
  const queryParams = Object.entries((query.properties as Json | undefined) ?? {}).map(([name, schema]) => ({
    name,
    in: 'query',
    required: required.has(name),
    schema,
  }));
  const headers = Object.entries(spec.headers ?? {}).map(([name, description]) => ({
    name,
    in: 'header',
    required: false,
    description,
    schema: { type: 'string' },
  }));
  return [...path, ...queryParams, ...headers];
}

function answer(key: string, a: Answer): Json {
  return 'schema' in a
    ? { description: a.description, content: { 'application/json': { schema: ref(a.schema, key) } } }
    : { description: a.description, ...(a.content ? { content: a.content } : {}) };
}

/** The error statuses of an operation: its own, those its shape implies, and 429 and 503 for all. */
function errorStatuses(spec: OperationSpec, access: Access, pathParams: string[]): number[] {
  const statuses = new Set([...(spec.errors ?? []), 429, 503]);
  if (spec.query || spec.body || pathParams.length > 0) statuses.add(400);
  if (access !== 'public') statuses.add(401).add(403);
  if (pathParams.length > 0) statuses.add(404);
  return [...statuses].sort((a, b) => a - b);
}

function operation(key: string, spec: OperationSpec, endpoints: Endpoint[]): Json {
  const { access } = endpoints[0]!;
  if (endpoints.some((e) => JSON.stringify(e.access) !== JSON.stringify(access))) {
    throw new Error(`openapi: ${key} has a different access on the api and the receiver`);
  }
  const [method, path] = key.split(' ') as [string, string];
  const { params: pathParams } = routePathParts(path);
  const responses: Json = {};
  for (const [status, a] of Object.entries(spec.responses)) responses[status] = answer(key, a);
  for (const status of errorStatuses(spec, access, pathParams)) {
    const code = CODE_OF_STATUS.get(status);
    if (!code) throw new Error(`openapi: ${key} lists ${status}, which is no error code's status`);
    responses[status] = { $ref: `#/components/responses/${code}` };
  }
  const apps = endpoints.map((e) => e.app);
  const body = spec.body;
  return {
    operationId: `${method.toLowerCase()}${path.replace(/\\:/g, '_').replace(/[^A-Za-z0-9]+/g, '_')}`,
    tags: [spec.tag],
    summary: spec.summary,
    description: [
      spec.description,
      `Access: ${describeAccess(access)}${access === 'public' ? ' (no key)' : ''}.`,
    ]
      .filter(Boolean)
      .join('\n\n'),
    ...(apps.length === 1 && apps[0] === 'api' ? {} : { servers: apps.map((app) => SERVERS[app]) }),
    parameters: parameters(key, spec, pathParams),
    ...(body
      ? {
          requestBody: {
            required: true,
            content: body instanceof z.ZodType ? { 'application/json': { schema: ref(body, key) } } : body,
          },
        }
      : {}),
    responses,
    ...(access === 'public' ? { security: [] } : {}),
    'x-agentrace-access':
      access === 'public' ? 'public' : { ingest_keys: access.ingestKeys, min_role: access.minRole },
    ...(key === 'GET /v1/stream'
      ? {
          'x-agentrace-events': Object.fromEntries(
            Object.entries(STREAM_EVENTS).map(([event, name]) => [
              event,
              { $ref: `#/components/schemas/${name}` },
            ]),
          ),
        }
      : {}),
  };
}

/**
 * The OpenAPI 3.1 document of every endpoint in the access table (`ENDPOINTS`), described by `OPERATIONS`
 * with the zod schemas the routes parse and answer. Throws when the two disagree (an endpoint without a
 * description or the reverse), so that a new route cannot be left out.
 */
export function buildOpenApiDocument(): Json {
  const byKey = new Map<string, Endpoint[]>();
  for (const endpoint of ENDPOINTS) {
    const key = `${endpoint.method} ${endpoint.path}`;
    byKey.set(key, [...(byKey.get(key) ?? []), endpoint]);
  }
  const undescribed = [...byKey.keys()].filter((key) => !OPERATIONS[key]);
  const unknown = Object.keys(OPERATIONS).filter((key) => !byKey.has(key));
  if (undescribed.length > 0 || unknown.length > 0) {
    throw new Error(
      `openapi: not described: ${undescribed.join(', ')}; not in ENDPOINTS: ${unknown.join(', ')}`,
    );
  }
  const paths: Record<string, Json> = {};
  for (const [key, endpoints] of byKey) {
    const [method, path] = key.split(' ') as [string, string];
    const { literals, params } = routePathParts(path);
    const openApiPath = literals
      .map((literal, i) => (i < params.length ? `${literal}{${apiParamName(params[i]!)}}` : literal))
      .join('');
    paths[openApiPath] = {
      ...paths[openApiPath],
      [method.toLowerCase()]: operation(key, OPERATIONS[key]!, endpoints),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'agentrace',
      version: '1',
      description:
        'OpenTelemetry-native observability for AI agents: the query API (port 8080) and the receiver (port 4318). Every non-2xx answer is an error envelope; every answer carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` when rate limits are on.',
    },
    servers: [SERVERS.api],
    security: [{ bearer: [] }],
    tags: TAGS,
    paths,
    components: {
      schemas: componentSchemas(),
      responses: errorResponses(),
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            'An API key: an ingest key (of one project) or a user key with a role (viewer, approver, admin).',
        },
      },
    },
  };
}
