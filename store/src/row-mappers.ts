import type { Invocation, Run, Step } from '@agentrace/schemas';
import { TIMESTAMP_TEXT } from './sql-fragments.ts';

/** Microsecond RFC 3339 text (as TIMESTAMP_TEXT renders it) to the API's millisecond form. */
export const toApiTime = (text: string): string => `${text.slice(0, 23)}Z`;
const toApiTimeOrNull = (text: string | null): string | null => (text === null ? null : toApiTime(text));

export const RUN_COLUMNS = `r.id, r.project_id, r.name, r.status, ${TIMESTAMP_TEXT('r.started_at')} AS started_at,
  ${TIMESTAMP_TEXT('r.finished_at')} AS finished_at, r.duration_ms, encode(r.trace_id, 'hex') AS trace_id,
  r.parent_run_id, r.session_id, r.user_id, r.agent_name, r.tags, r.model_names, r.step_count, r.tool_count,
  r.error_count, r.input_tokens, r.output_tokens, r.cost_usd, r.governance_violations`;

export interface RunRow {
  id: string;
  project_id: string;
  name: string;
  status: Run['status'];
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
  trace_id: string | null;
  parent_run_id: string | null;
  session_id: string | null;
  user_id: string | null;
  agent_name: string | null;
  tags: Record<string, string>;
  model_names: string[];
  step_count: number;
  tool_count: number;
  error_count: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number | null;
  governance_violations: number;
}

export function toRun(row: RunRow): Run {
  return {
    run_id: row.id,
    project_id: row.project_id,
    name: row.name,
    status: row.status,
    started_at: toApiTime(row.started_at),
    finished_at: toApiTimeOrNull(row.finished_at),
    duration_ms: row.duration_ms,
    trace_id: row.trace_id,
    parent_run_id: row.parent_run_id,
    session_id: row.session_id,
    user_id: row.user_id,
    agent_name: row.agent_name,
    tags: row.tags,
    model_names: row.model_names,
    step_count: row.step_count,
    tool_count: row.tool_count,
    error_count: row.error_count,
    input_tokens: row.input_tokens,
    output_tokens: row.output_tokens,
    cost_usd: row.cost_usd,
    governance_violations: row.governance_violations,
  };
}

/** Every step column but its parent step, which the two forms below settle differently. */
const STEP_OWN_COLUMNS = `s.id, s.run_id, s.seq, ${TIMESTAMP_TEXT('s.ts')} AS ts, ${TIMESTAMP_TEXT('s.end_ts')} AS end_ts,
  s.duration_ms, s.type, s.name, s.status, s.schema_version, s.error_type, s.error_message, s.error_stack, s.model,
  s.request_model, s.provider, s.tool_name, s.agent_name, s.input_tokens, s.output_tokens, s.cost_usd, s.payload,
  s.payload_hash, s.redaction_meta, encode(s.trace_id, 'hex') AS trace_id, encode(s.span_id, 'hex') AS span_id,
  s.decision_token_id, s.governance_violation`;

/** Step columns; `p` is the parent step joined on (tenant, trace, parent span). */
export const STEP_COLUMNS = `coalesce(s.parent_step_id, p.id) AS parent_step_id, ${STEP_OWN_COLUMNS}`;

/**
 * Step columns without the parent join, for reads of a whole run: its parents are resolved from the run's
 * own rows (`resolveParents`), the stored parent span standing in for the join.
 */
export const RUN_STEP_COLUMNS = `s.parent_step_id, encode(s.parent_span_id, 'hex') AS parent_span_id, ${STEP_OWN_COLUMNS}`;

/**
 * The parent step `p` of a step that stores only its parent span. LATERAL with LIMIT (which PostgreSQL
 * never flattens into a join), so that each step costs one probe of the unique step_span index whatever the
 * statistics say: a plain join was planned as a hash join over the whole step table while a fresh table
 * grew unanalyzed (108 ms per live-stream page at 25k steps).
 */
export const STEP_PARENT_JOIN = `LEFT JOIN LATERAL (
    SELECT p.id FROM step p WHERE s.parent_step_id IS NULL AND p.tenant_id = s.tenant_id
      AND p.trace_id = s.trace_id AND p.span_id = s.parent_span_id
    LIMIT 1
  ) p ON true`;

export interface StepRow {
  id: string;
  run_id: string;
  seq: number;
  parent_step_id: string | null;
  ts: string;
  end_ts: string | null;
  duration_ms: number | null;
  type: Step['type'];
  name: string;
  status: Step['status'];
  schema_version: number;
  error_type: string | null;
  error_message: string | null;
  error_stack: string | null;
  model: string | null;
  request_model: string | null;
  provider: string | null;
  tool_name: string | null;
  agent_name: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cost_usd: number | null;
  payload: Step['payload'];
  payload_hash: string;
  redaction_meta: Step['redaction_meta'];
  trace_id: string | null;
  span_id: string | null;
  decision_token_id: string | null;
  governance_violation: Step['governance_violation'];
}

/** A step row read by `RUN_STEP_COLUMNS`: its parent span (hex) beside the parent step it was given. */
export type RunStepRow = StepRow & { parent_span_id: string | null };

/** A step row whose jsonb columns are left as the text PostgreSQL sent (see `RAW_JSONB`). */
export type RawJsonStepRow = Omit<StepRow, 'payload' | 'redaction_meta'> & {
  payload: string;
  redaction_meta: string;
};

export function toStep(row: StepRow): Step {
  return { ...toStepFields(row), payload: row.payload, redaction_meta: row.redaction_meta };
}

/** Every field of a step but its two jsonb documents, which callers either parse or pass through as text. */
export function toStepFields(
  row: Omit<StepRow, 'payload' | 'redaction_meta'>,
): Omit<Step, 'payload' | 'redaction_meta'> {
  const failed = row.status === 'error' || row.error_type !== null;
  return {
    step_id: row.id,
    run_id: row.run_id,
    seq: row.seq,
    parent_step_id: row.parent_step_id,
    ts: toApiTime(row.ts),
    end_ts: toApiTimeOrNull(row.end_ts),
    duration_ms: row.duration_ms,
    type: row.type,
    name: row.name,
    status: row.status,
    schema_version: row.schema_version,
    error: failed
      ? { type: row.error_type ?? 'error', message: row.error_message ?? '', stack: row.error_stack }
      : null,
    model: row.model ?? row.request_model,
    request_model: row.request_model,
    provider: row.provider,
    tool_name: row.tool_name,
    agent_name: row.agent_name,
    input_tokens: row.input_tokens,
    output_tokens: row.output_tokens,
    cost_usd: row.cost_usd,
    payload_hash: row.payload_hash,
    trace_id: row.trace_id,
    span_id: row.span_id,
    decision_token_id: row.decision_token_id,
    governance_violation: row.governance_violation,
  };
}

export const INVOCATION_COLUMNS = `i.id, i.run_id, i.step_id, encode(i.trace_id, 'hex') AS trace_id, i.kind, i.target,
  i.method, i.invoker, i.task_type, i.provider, i.success, i.error_type, i.error_message,
  ${TIMESTAMP_TEXT('i.started_at')} AS started_at, i.latency_ms, i.input_tokens, i.output_tokens, i.cost_usd,
  i.cost_source`;

export interface InvocationRow {
  id: string;
  run_id: string;
  step_id: string;
  trace_id: string | null;
  kind: Invocation['kind'];
  target: string;
  method: string | null;
  invoker: string | null;
  task_type: string | null;
  provider: string | null;
  success: boolean;
  error_type: string | null;
  error_message: string | null;
  started_at: string;
  latency_ms: number | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cost_usd: number | null;
  cost_source: Invocation['cost_source'];
}

export function toInvocation(row: InvocationRow): Invocation {
  return {
    invocation_id: row.id,
    run_id: row.run_id,
    step_id: row.step_id,
    trace_id: row.trace_id,
    kind: row.kind,
    target: row.target,
    method: row.method,
    invoker: row.invoker,
    task_type: row.task_type,
    provider: row.provider,
    success: row.success,
    error_type: row.error_type,
    error_message: row.error_message,
    started_at: toApiTime(row.started_at),
    latency_ms: row.latency_ms,
    input_tokens: row.input_tokens,
    output_tokens: row.output_tokens,
    estimated_cost_usd: row.cost_usd,
    cost_source: row.cost_source,
  };
}
