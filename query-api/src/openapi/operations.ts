import {
  ApiKey,
  Approval,
  ApprovalActionBody,
  ApprovalGetQuery,
  ApprovalListQuery,
  ArtifactStatsQuery,
  AssignedSteps,
  AuditListQuery,
  AuditRecord,
  AuditVerification,
  Backup,
  BackupListQuery,
  BackupStarted,
  BreakGlassBody,
  CostQuery,
  CostRow,
  CreatedKey,
  CreateKeyBody,
  CreatePolicyBody,
  CreateProjectBody,
  CreateRunBody,
  DecisionBody,
  DecisionPublicKeys,
  DecisionResult,
  DiffQuery,
  EmptyQuery,
  ErrorEnvelope,
  FinishRunBody,
  Invocation,
  InvocationListQuery,
  InvocationStatsQuery,
  InvocationStatsRow,
  listOf,
  Policy,
  PolicyListQuery,
  Project,
  Run,
  RunDiff,
  RunExportQuery,
  RunListQuery,
  SetRetentionBody,
  Step,
  StepBatchBody,
  StepListQuery,
  type StreamEventType,
  StreamQuery,
  Timeline,
  UuidParam,
} from '@agentrace/schemas';
import { z } from 'zod';

/** The named schemas of the document (`#/components/schemas/<name>`): every body and JSON answer is one. */
export const COMPONENTS = {
  ErrorEnvelope,
  Health: z.object({ status: z.literal('ok') }),
  Ready: z.object({ status: z.literal('ready') }),
  Run,
  RunList: listOf(Run),
  Step,
  StepList: listOf(Step),
  Timeline,
  RunDiff,
  Invocation,
  InvocationList: listOf(Invocation),
  InvocationStatsRow,
  InvocationStats: z.object({ data: z.array(InvocationStatsRow) }),
  CostReport: z.object({ data: z.array(CostRow) }),
  Policy,
  PolicyList: z.object({ data: z.array(Policy) }),
  CreatePolicyBody,
  DecisionBody,
  BreakGlassBody,
  DecisionResult,
  DecisionPublicKeys,
  Approval,
  ApprovalList: z.object({ data: z.array(Approval) }),
  ApprovalActionBody,
  AuditList: listOf(AuditRecord),
  AuditVerification,
  Project,
  ProjectList: z.object({ data: z.array(Project) }),
  CreateProjectBody,
  SetRetentionBody,
  ApiKey,
  KeyList: z.object({ data: z.array(ApiKey) }),
  CreateKeyBody,
  CreatedKey,
  Backup,
  BackupList: listOf(Backup),
  BackupStarted,
  CreateRunBody,
  StepBatchBody,
  AssignedSteps,
  FinishRunBody,
} satisfies Record<string, z.ZodType>;

/** A success answer: JSON of a named schema, other media types described as OpenAPI content, or no body. */
export type Answer = { description: string } & (
  | { schema: z.ZodType }
  | { content?: Record<string, { schema?: Record<string, unknown> }> }
);

export interface OperationSpec {
  /** Groups operations in the document. */
  tag: 'runs' | 'invocations' | 'stream' | 'governance' | 'admin' | 'operations' | 'ingest';
  summary: string;
  description?: string;
  /** The strict query schema the route parses, as the client sends it. */
  query?: z.ZodObject;
  /** Path parameters that are not free text; the others are strings. */
  params?: Record<string, z.ZodType>;
  /** Request headers the route reads. */
  headers?: Record<string, string>;
  /** A JSON body, or other media types. */
  body?: z.ZodType | Record<string, { schema?: Record<string, unknown> }>;
  responses: Record<number, Answer>;
  /**
   * Error statuses beyond those every operation may answer (429, 503) and those its shape implies (400 for
   * parameters or a body, 401 and 403 for a key, 404 for a path parameter).
   */
  errors?: number[];
}

const Uuids = (...names: string[]) => Object.fromEntries(names.map((n) => [n, UuidParam]));
const LIST = "Newest first; `limit` (1–1000, default 100) and `cursor` (the previous page's `next_cursor`).";
const METRICS: OperationSpec = {
  tag: 'operations',
  summary: 'Prometheus metrics of the process',
  description:
    'Totals of the whole server, no tenant data. When `AGENTRACE_METRICS_TOKEN` is set, the route asks for it as a bearer token (401 otherwise); 404 when metrics are off.',
  responses: {
    200: {
      description: 'Prometheus text exposition',
      content: { 'text/plain': { schema: { type: 'string' } } },
    },
  },
  errors: [401, 404],
};

/** The data of each live stream event, by its `event:` name (`error` ends the stream). */
export const STREAM_EVENTS: Record<StreamEventType | 'error', keyof typeof COMPONENTS> = {
  'step.created': 'Step',
  'run.updated': 'Run',
  'approval.updated': 'Approval',
  error: 'ErrorEnvelope',
};

/**
 * What the document says about each endpoint of `ENDPOINTS`, keyed by `METHOD path` as the access table
 * writes it (an endpoint that both apps serve, like `/healthz`, has one entry).
 */
export const OPERATIONS: Record<string, OperationSpec> = {
  'GET /healthz': {
    tag: 'operations',
    summary: 'Liveness',
    responses: { 200: { description: 'the process is up', schema: COMPONENTS.Health } },
  },
  'GET /readyz': {
    tag: 'operations',
    summary: 'Readiness: the database answers',
    responses: { 200: { description: 'ready to serve', schema: COMPONENTS.Ready } },
  },
  'GET /metrics': METRICS,
  'GET /v1/openapi.json': {
    tag: 'operations',
    summary: 'This document',
    responses: {
      200: {
        description: 'the OpenAPI 3.1 document of the query API and the receiver',
        content: { 'application/json': { schema: { type: 'object' } } },
      },
    },
  },
  'GET /v1/runs': {
    tag: 'runs',
    summary: 'List runs',
    description: `${LIST} Tags filter as \`tag.<key>=<value>\` (any number, all must match).`,
    query: RunListQuery.omit({ tags: true }),
    responses: { 200: { description: 'a page of runs', schema: COMPONENTS.RunList } },
  },
  'GET /v1/runs/:runId': {
    tag: 'runs',
    summary: 'One run',
    params: Uuids('runId'),
    responses: { 200: { description: 'the run', schema: Run } },
  },
  'GET /v1/runs/:runId/steps': {
    tag: 'runs',
    summary: "A run's steps in seq order",
    query: StepListQuery,
    params: Uuids('runId'),
    responses: { 200: { description: 'a page of steps', schema: COMPONENTS.StepList } },
  },
  'GET /v1/runs/:runId/timeline': {
    tag: 'runs',
    summary: "A run's steps as a tree in time order",
    description:
      'Answers carry an `ETag` (the version of the run) and `Cache-Control: private, no-cache`: a client that sends it back as `If-None-Match` gets 304 with no body while the run is unchanged. A timeline whose steps still await a parent span from another run has no `ETag`.',
    query: EmptyQuery,
    params: Uuids('runId'),
    headers: { 'If-None-Match': 'the `ETag` of a timeline held: 304 while the run has not changed since' },
    responses: {
      200: { description: 'the run and its steps', schema: Timeline },
      304: { description: 'not modified since the `ETag` given in `If-None-Match`' },
    },
  },
  'GET /v1/runs/:runId/export': {
    tag: 'runs',
    summary: 'Export a run (streamed)',
    query: RunExportQuery,
    params: Uuids('runId'),
    responses: {
      200: {
        description:
          '`format=jsonl`: one JSON line, the run with its `steps`; `format=otlp`: an OTLP/JSON `ExportTraceServiceRequest`',
        content: {
          'application/x-ndjson': { schema: { type: 'string' } },
          'application/json': {
            schema: { type: 'object', description: 'OTLP/JSON ExportTraceServiceRequest' },
          },
        },
      },
    },
  },
  'GET /v1/diff': {
    tag: 'runs',
    summary: 'Compare two runs step by step',
    query: DiffQuery,
    responses: { 200: { description: 'summary deltas (b − a) and the aligned steps', schema: RunDiff } },
    errors: [404],
  },
  'GET /v1/invocations': {
    tag: 'invocations',
    summary: 'List invocations of models, tools, agents and artifacts',
    description: LIST,
    query: InvocationListQuery,
    responses: { 200: { description: 'a page of invocations', schema: COMPONENTS.InvocationList } },
  },
  'GET /v1/invocations/stats': {
    tag: 'invocations',
    summary: 'Invocation statistics by group',
    query: InvocationStatsQuery,
    responses: {
      200: {
        description:
          'one row per group, busiest first; percentiles exact. Without filters other than since/until, whole UTC days with calls before yesterday are computed once and kept until a change to them',
        schema: COMPONENTS.InvocationStats,
      },
    },
  },
  'GET /v1/artifacts/:artifactId/invocations': {
    tag: 'invocations',
    summary: "One artifact's invocation statistics",
    query: ArtifactStatsQuery,
    responses: { 200: { description: 'the stats row (404 if never invoked)', schema: InvocationStatsRow } },
  },
  'GET /v1/cost': {
    tag: 'invocations',
    summary: 'Cost report',
    query: CostQuery,
    responses: { 200: { description: 'one row per group', schema: COMPONENTS.CostReport } },
  },
  'GET /v1/stream': {
    tag: 'stream',
    summary: 'Live stream of changes (Server-Sent Events)',
    description: [
      "The tenant's changes as they commit. Each event has `id` (a resumable cursor), `event` and `data` (JSON):",
      '`step.created` (a Step), `run.updated` (a Run), `approval.updated` (an Approval); `error` (an error',
      'envelope: `slow_consumer` or `unavailable`) ends the stream. `Last-Event-ID` (or `last_event_id`) resumes',
      'just after that event. `x-agentrace-events` names the schema of each event.',
    ].join(' '),
    query: StreamQuery,
    headers: { 'Last-Event-ID': 'the `id` of the last event received: the stream resumes just after it' },
    responses: {
      200: {
        description: 'an endless `text/event-stream`, with a comment line as heartbeat',
        content: { 'text/event-stream': { schema: { type: 'string' } } },
      },
    },
  },
  'GET /v1/policies': {
    tag: 'governance',
    summary: 'Policy versions',
    query: PolicyListQuery,
    responses: { 200: { description: 'the versions', schema: COMPONENTS.PolicyList } },
  },
  'POST /v1/policies': {
    tag: 'governance',
    summary: 'Create a policy version (inactive)',
    body: CreatePolicyBody,
    responses: { 201: { description: 'the new version', schema: Policy } },
    errors: [404],
  },
  'POST /v1/policies/:policyId\\:activate': {
    tag: 'governance',
    summary: "Make a version its project's active policy",
    params: Uuids('policyId'),
    responses: { 200: { description: 'the activated version', schema: Policy } },
  },
  'POST /v1/decisions': {
    tag: 'governance',
    summary: 'Decide a tool call',
    description: 'An ingest key reaches only the runs of its own project.',
    body: DecisionBody,
    responses: {
      200: { description: 'allow (with a signed token), deny or pending', schema: DecisionResult },
    },
    errors: [404],
  },
  'POST /v1/decisions\\:break-glass': {
    tag: 'governance',
    summary: 'Allow one call whatever the policy says (audited)',
    body: BreakGlassBody,
    responses: { 200: { description: 'an allow with a break-glass token', schema: DecisionResult } },
    errors: [404],
  },
  'GET /v1/decisions/public-key': {
    tag: 'governance',
    summary: 'The keys that verify DecisionTokens',
    responses: { 200: { description: 'the current key and every key', schema: DecisionPublicKeys } },
  },
  'GET /v1/approvals': {
    tag: 'governance',
    summary: 'Approval requests',
    query: ApprovalListQuery,
    responses: { 200: { description: 'newest first', schema: COMPONENTS.ApprovalList } },
  },
  'GET /v1/approvals/:approvalId': {
    tag: 'governance',
    summary: 'One approval request, optionally long-polled (`wait`)',
    query: ApprovalGetQuery,
    params: Uuids('approvalId'),
    responses: { 200: { description: 'the request', schema: Approval } },
  },
  'POST /v1/approvals/:approvalId\\:approve': {
    tag: 'governance',
    summary: 'Approve a request (not by the key that made it)',
    params: Uuids('approvalId'),
    body: ApprovalActionBody,
    responses: { 200: { description: 'the approved request, with its token', schema: Approval } },
    errors: [409],
  },
  'POST /v1/approvals/:approvalId\\:deny': {
    tag: 'governance',
    summary: 'Deny a request (not by the key that made it)',
    params: Uuids('approvalId'),
    body: ApprovalActionBody,
    responses: { 200: { description: 'the denied request', schema: Approval } },
    errors: [409],
  },
  'GET /v1/audit': {
    tag: 'admin',
    summary: "The tenant's audit log",
    description: LIST,
    query: AuditListQuery,
    responses: { 200: { description: 'a page of records', schema: COMPONENTS.AuditList } },
  },
  'GET /v1/audit\\:verify': {
    tag: 'admin',
    summary: "Verify the audit log's hash chain",
    query: EmptyQuery,
    responses: { 200: { description: 'what the check found', schema: AuditVerification } },
  },
  'GET /v1/admin/projects': {
    tag: 'admin',
    summary: "The tenant's projects",
    responses: { 200: { description: 'the projects', schema: COMPONENTS.ProjectList } },
  },
  'POST /v1/admin/projects': {
    tag: 'admin',
    summary: 'Create a project',
    body: CreateProjectBody,
    responses: { 201: { description: 'the project', schema: Project } },
    errors: [409],
  },
  'PUT /v1/admin/projects/:projectId/retention': {
    tag: 'admin',
    summary: "Set a project's retention (null: forever)",
    params: Uuids('projectId'),
    body: SetRetentionBody,
    responses: { 200: { description: 'the project', schema: Project } },
  },
  'GET /v1/admin/keys': {
    tag: 'admin',
    summary: "The tenant's keys (never a secret)",
    responses: { 200: { description: 'the keys', schema: COMPONENTS.KeyList } },
  },
  'POST /v1/admin/keys': {
    tag: 'admin',
    summary: 'Issue a key',
    body: CreateKeyBody,
    responses: { 201: { description: 'the key, its secret shown this once', schema: CreatedKey } },
    errors: [404],
  },
  'DELETE /v1/admin/keys/:keyId': {
    tag: 'admin',
    summary: 'Revoke a key',
    params: Uuids('keyId'),
    responses: { 200: { description: 'the revoked key', schema: ApiKey } },
  },
  'GET /v1/admin/backups': {
    tag: 'admin',
    summary: 'Backups (admin of the operator tenant)',
    description: LIST,
    query: BackupListQuery,
    responses: { 200: { description: 'a page of backups', schema: COMPONENTS.BackupList } },
  },
  'POST /v1/admin/backups': {
    tag: 'admin',
    summary: 'Start a backup (admin of the operator tenant)',
    description: '409 while one runs or when no bucket is configured.',
    query: EmptyQuery,
    responses: { 202: { description: 'the backup, running in the background', schema: BackupStarted } },
    errors: [409],
  },
  'POST /v1/traces': {
    tag: 'ingest',
    summary: 'OTLP/HTTP trace export',
    description:
      'An OTLP `ExportTraceServiceRequest` in protobuf or JSON, optionally `Content-Encoding: gzip | deflate`; answered in the same content type. A 200 means the accepted spans are committed; `partialSuccess` counts rejected spans.',
    body: {
      'application/x-protobuf': {},
      'application/json': { schema: { type: 'object', description: 'OTLP/JSON ExportTraceServiceRequest' } },
    },
    responses: {
      200: {
        description: 'an `ExportTraceServiceResponse`',
        content: {
          'application/x-protobuf': {},
          'application/json': {
            schema: { type: 'object', description: 'OTLP/JSON ExportTraceServiceResponse' },
          },
        },
      },
    },
    errors: [413],
  },
  'POST /v1/runs': {
    tag: 'ingest',
    summary: "Declare a run in the key's project",
    body: CreateRunBody,
    responses: {
      201: { description: 'the new run, `running`', schema: Run },
      200: { description: 'the run already declared for this trace', schema: Run },
    },
    errors: [409],
  },
  'POST /v1/runs/:runId/steps': {
    tag: 'ingest',
    summary: "Append steps to a run (all or none; a step's `step_id` makes a retry idempotent)",
    params: Uuids('runId'),
    body: StepBatchBody,
    responses: { 200: { description: 'where each step landed', schema: AssignedSteps } },
    errors: [409, 413],
  },
  'POST /v1/runs/:runId\\:finish': {
    tag: 'ingest',
    summary: 'Finish a run (again with the same status: unchanged)',
    params: Uuids('runId'),
    body: FinishRunBody,
    responses: { 200: { description: 'the finished run', schema: Run } },
    errors: [409],
  },
};
