import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate } from 'node:timers/promises';
import { from as copyFrom } from 'pg-copy-streams';
import type { PoolClient } from './connection.ts';
import type { GovernanceViolation } from '@agentrace/schemas';
import type { StepRecord } from './ingest-types.ts';

// COPY's text format: backslash escapes for the four characters that would break a row, `\N` for null.
// Hand-written because COPY is the ingest writer's hot path: PostgreSQL parses it with far less CPU than
// INSERT … SELECT FROM unnest(...), and no array literals have to be built in JS.
const SPECIAL = /[\\\n\r\t]/;
const SPECIAL_ALL = /[\\\n\r\t]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
export const COPY_NULL = '\\N';

export const copyText = (v: string | null | undefined): string =>
  v === null || v === undefined ? COPY_NULL : SPECIAL.test(v) ? v.replace(SPECIAL_ALL, (c) => ESCAPES[c]!) : v;
export const copyNumber = (v: number | null | undefined): string =>
  v === null || v === undefined ? COPY_NULL : String(v);
export const copyBool = (v: boolean): string => (v ? 't' : 'f');
/** bytea in hex form (`\x0a1b…`); the backslash is itself escaped for COPY. */
export const copyBytea = (v: Buffer | null): string => (v === null ? COPY_NULL : `\\\\x${v.toString('hex')}`);
/** A text[] literal: every element quoted, `"` and `\` escaped inside the quotes, then escaped for COPY. */
export const copyTextArray = (vs: readonly string[]): string =>
  copyText(`{${vs.map((v) => `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`);

export const STEP_COPY_COLUMNS = [
  'tenant_id',
  'id',
  'run_id',
  'seq',
  'parent_step_id',
  'trace_id',
  'span_id',
  'parent_span_id',
  'ts',
  'end_ts',
  'duration_ms',
  'type',
  'name',
  'status',
  'error_type',
  'error_message',
  'error_stack',
  'model',
  'request_model',
  'provider',
  'tool_name',
  'agent_name',
  'input_tokens',
  'output_tokens',
  'cost_usd',
  'decision_token_id',
  'governance_violation',
  'payload',
  'payload_hash',
  'redaction_meta',
  'schema_version',
  'resource',
  'scope',
] as const;

export const INVOCATION_COPY_COLUMNS = [
  'tenant_id',
  'id',
  'project_id',
  'run_id',
  'step_id',
  'trace_id',
  'span_id',
  'parent_span_id',
  'kind',
  'target',
  'method',
  'invoker',
  'task_type',
  'provider',
  'model',
  'tool_name',
  'artifact_id',
  'success',
  'error_type',
  'error_message',
  'started_at',
  'latency_ms',
  'input_tokens',
  'output_tokens',
  'cached_input_tokens',
  'cache_write_tokens',
  'reasoning_tokens',
  'cost_usd',
  'cost_source',
] as const;

/** One `step` row (STEP_COPY_COLUMNS order) in COPY text format; `violation`: see binding.ts. */
export function stepCopyLine(
  r: StepRecord,
  stepId: string,
  seq: number,
  violation: GovernanceViolation | null = null,
): string {
  return [
    r.tenantId,
    stepId,
    r.runId,
    String(seq),
    copyText(r.parentStepId),
    copyBytea(r.traceId),
    copyBytea(r.spanId),
    copyBytea(r.parentSpanId),
    r.ts,
    copyText(r.endTs),
    copyNumber(r.durationMs),
    r.type,
    copyText(r.name),
    r.status,
    copyText(r.errorType),
    copyText(r.errorMessage),
    copyText(r.errorStack),
    copyText(r.model),
    copyText(r.requestModel),
    copyText(r.provider),
    copyText(r.toolName),
    copyText(r.agentName),
    copyNumber(r.inputTokens),
    copyNumber(r.outputTokens),
    copyNumber(r.costUsd),
    copyText(r.decisionTokenId),
    copyText(violation),
    copyText(r.payloadJson),
    r.payloadHash,
    copyText(JSON.stringify(r.redactionMeta)),
    String(r.schemaVersion),
    copyText(r.resourceJson),
    copyText(r.scopeJson),
  ].join('\t');
}

/** The `invocation` row (INVOCATION_COPY_COLUMNS order) of a record that makes one. */
export function invocationCopyLine(r: StepRecord, stepId: string): string {
  const inv = r.invocation!;
  return [
    r.tenantId,
    randomUUID(),
    r.projectId,
    r.runId,
    stepId,
    copyBytea(r.traceId),
    copyBytea(r.spanId),
    copyBytea(r.parentSpanId),
    inv.kind,
    copyText(inv.target),
    copyText(inv.method),
    copyText(inv.invoker),
    copyText(inv.taskType),
    copyText(inv.provider),
    copyText(inv.model),
    copyText(inv.toolName),
    copyText(inv.artifactId),
    copyBool(inv.success),
    copyText(inv.errorType),
    copyText(inv.errorMessage),
    r.ts,
    copyNumber(inv.latencyMs),
    copyNumber(inv.inputTokens),
    copyNumber(inv.outputTokens),
    copyNumber(inv.cachedInputTokens),
    copyNumber(inv.cacheWriteTokens),
    copyNumber(inv.reasoningTokens),
    copyNumber(inv.costUsd),
    copyText(inv.costSource),
  ].join('\t');
}

/**
 * Rows per chunk of COPY data. The writer builds a chunk, sends it, and lets the event loop run before the
 * next: in one process the query API and the live stream share that loop, and a large batch built in one
 * go held them up for its whole length (PostgreSQL also starts parsing while the rest is built).
 */
const COPY_CHUNK_ROWS = 256;

/**
 * Streams `rows`, each made a COPY-format line by `line`, into `table` on `client` (inside the caller's
 * transaction, if any), a chunk at a time.
 * @example await copyRows(client, 'step', STEP_COPY_COLUMNS, fresh, (f) => stepCopyLine(f.record, f.stepId, f.seq))
 */
export async function copyRows<T>(
  client: PoolClient,
  table: string,
  columns: readonly string[],
  rows: readonly T[],
  line: (row: T, index: number) => string,
): Promise<void> {
  if (rows.length === 0) return;
  const stream = client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
  await pipeline(Readable.from(lineChunks(rows, line)), stream);
}

async function* lineChunks<T>(rows: readonly T[], line: (row: T, index: number) => string): AsyncGenerator<string> {
  for (let start = 0; start < rows.length; start += COPY_CHUNK_ROWS) {
    if (start > 0) await setImmediate();
    const end = Math.min(rows.length, start + COPY_CHUNK_ROWS);
    let chunk = '';
    for (let i = start; i < end; i++) chunk += `${line(rows[i]!, i)}\n`;
    yield chunk;
  }
}
