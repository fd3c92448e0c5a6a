import { z } from 'zod';
import { InvocationKind, RunStatus, StepType } from './domain.ts';

const Limit = z.coerce.number().int().min(1).max(1000).default(100);
const Cursor = z.string().min(1).optional();
const Timestamp = z.iso.datetime({ offset: true }).transform((s) => new Date(s));
const Bool = z.enum(['true', 'false']).transform((s) => s === 'true');
/** An OTel trace id as 32 hex characters, lowercased. */
export const TraceIdHex = z
  .string()
  .regex(/^[0-9a-fA-F]{32}$/, 'must be 32 hex characters')
  .transform((s) => s.toLowerCase());

/** `GET /v1/runs` query string. `tag.<key>` filters are collected into `tags`. */
export const RunListQuery = z
  .object({
    limit: Limit,
    cursor: Cursor,
    project_id: z.uuid().optional(),
    trace_id: TraceIdHex.optional(),
    status: RunStatus.optional(),
    name: z.string().optional(),
    agent: z.string().optional(),
    model: z.string().optional(),
    session_id: z.string().optional(),
    user_id: z.string().optional(),
    since: Timestamp.optional(),
    until: Timestamp.optional(),
    has_error: Bool.optional(),
    min_cost_usd: z.coerce.number().nonnegative().optional(),
    tags: z.record(z.string(), z.string()).default({}),
  })
  .strict();
export type RunListQuery = z.infer<typeof RunListQuery>;

/** `GET /v1/runs/{id}/steps` query string. */
export const StepListQuery = z
  .object({
    limit: Limit,
    cursor: Cursor,
    after_seq: z.coerce.number().int().nonnegative().optional(),
    type: StepType.optional(),
  })
  .strict();
export type StepListQuery = z.infer<typeof StepListQuery>;

/** The invocation filters shared by the list and the stats endpoints. */
export const InvocationFilters = z.object({
  kind: InvocationKind.optional(),
  target: z.string().optional(),
  task_type: z.string().optional(),
  provider: z.string().optional(),
  model: z.string().optional(),
  tool: z.string().optional(),
  artifact_id: z.string().optional(),
  invoker: z.string().optional(),
  success: Bool.optional(),
  error_type: z.string().optional(),
  run_id: z.uuid().optional(),
  since: Timestamp.optional(),
  until: Timestamp.optional(),
});
export type InvocationFilters = z.infer<typeof InvocationFilters>;

export const InvocationListQuery = InvocationFilters.extend({ limit: Limit, cursor: Cursor }).strict();
export type InvocationListQuery = z.infer<typeof InvocationListQuery>;

export const UuidParam = z.uuid();

/** The query string of an endpoint that takes no parameters: any parameter is a 400. */
export const EmptyQuery = z.object({}).strict();

/** The events of `GET /v1/stream`. */
export const StreamEventType = z.enum(['step.created', 'run.updated', 'approval.updated']);
export type StreamEventType = z.infer<typeof StreamEventType>;

/** `GET /v1/stream` query string; `types` is a comma list (all types when absent). */
export const StreamQuery = z
  .object({
    run_id: z.uuid().optional(),
    trace_id: TraceIdHex.optional(),
    project_id: z.uuid().optional(),
    types: z
      .string()
      .transform((s, ctx) => {
        const names = s.split(',').map((t) => t.trim());
        const unknown = names.filter((t) => !StreamEventType.safeParse(t).success);
        if (unknown.length > 0 || names.length === 0) {
          ctx.addIssue({
            code: 'custom',
            message: `unknown event type ${unknown.map((t) => JSON.stringify(t)).join(', ')}; one of ${StreamEventType.options.join(', ')}`,
          });
          return z.NEVER;
        }
        return [...new Set(names)] as StreamEventType[];
      })
      .optional(),
    /** The `Last-Event-ID` header's equivalent, for clients that cannot set headers. */
    last_event_id: z.string().min(1).optional(),
  })
  .strict();
export type StreamQuery = z.infer<typeof StreamQuery>;
