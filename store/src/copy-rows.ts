import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { setImmediate } from 'node:timers/promises';
import { from as copyFrom } from 'pg-copy-streams';
import type { PoolClient } from './connection.ts';
import type { GovernanceViolation } from '@agentrace/schemas';
import type { ByteArena } from './byte-arena.ts';
import type { RenderedRows, RenderedStep, StepRecord, WritableStep } from './ingest-types.ts';

// COPY's text format: backslash escapes for the four characters that would break a row, `\N` for null.
// Hand-written because COPY is the ingest writer's hot path: PostgreSQL parses it with far less CPU than
// INSERT … SELECT FROM unnest(...), and no array literals have to be built in JS.
const SPECIAL = /[\\\n\r\t]/;
export const COPY_NULL = '\\N';

export const copyText = (v: string | null | undefined): string =>
  v === null || v === undefined ? COPY_NULL : SPECIAL.test(v) ? escapeCopyText(v) : v;

// Four native passes rather than one regex replace with a callback: payloads are JSON, whose escaped
// newlines are backslashes (20 in a typical span), and a JS call per character cost 5.5-6.2 µs a
// payload against 4.0-4.6.
const escapeCopyText = (v: string) =>
  v.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('\r', '\\r').replaceAll('\t', '\\t');

export const copyNumber = (v: number | null | undefined): string =>
  v === null || v === undefined ? COPY_NULL : String(v);
export const copyBool = (v: boolean): string => (v ? 't' : 'f');
/** bytea in hex form (`\x0a1b…`); the backslash is itself escaped for COPY. */
export const copyBytea = (v: Buffer | null): string => (v === null ? COPY_NULL : `\\\\x${v.toString('hex')}`);
/** A text[] literal: every element quoted, `"` and `\` escaped inside the quotes, then escaped for COPY. */
export const copyTextArray = (vs: readonly string[]): string =>
  copyText(`{${vs.map((v) => `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`);

/** The step columns the writer settles under the run locks; they lead each row, before the rendered ones. */
const STEP_SETTLED_COLUMNS = ['id', 'seq', 'governance_violation'] as const;

export const STEP_COPY_COLUMNS = [
  ...STEP_SETTLED_COLUMNS,
  'tenant_id',
  'run_id',
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
  'payload',
  'payload_hash',
  'redaction_meta',
  'schema_version',
  'resource',
  'scope',
] as const;

export const INVOCATION_COPY_COLUMNS = [
  'step_id',
  'tenant_id',
  'id',
  'project_id',
  'run_id',
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

/** A step row's settled columns (STEP_SETTLED_COLUMNS), with the tab that joins them to the rendered rest. */
const stepPrefix = (stepId: string, seq: number, violation: GovernanceViolation | null) =>
  `${stepId}\t${seq}\t${copyText(violation)}\t`;

/** One `step` row (STEP_COPY_COLUMNS order) in COPY text format; `violation`: see binding.ts. */
export function stepCopyLine(
  r: StepRecord,
  stepId: string,
  seq: number,
  violation: GovernanceViolation | null = null,
): string {
  return stepPrefix(stepId, seq, violation) + renderedStepColumns(r);
}

/** The `invocation` row (INVOCATION_COPY_COLUMNS order) of a record that makes one. */
export function invocationCopyLine(r: StepRecord, stepId: string): string {
  return `${stepId}\t${renderedInvocationColumns(r)}`;
}

/** A step row after its settled columns. */
function renderedStepColumns(r: StepRecord): string {
  return [
    r.tenantId,
    r.runId,
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
    copyText(r.payloadJson),
    r.payloadHash,
    copyText(JSON.stringify(r.redactionMeta)),
    String(r.schemaVersion),
    copyText(r.resourceJson),
    copyText(r.scopeJson),
  ].join('\t');
}

/** An invocation row after its step id (the one settled column); the invocation's own id is made here. */
function renderedInvocationColumns(r: StepRecord): string {
  const inv = r.invocation!;
  return [
    r.tenantId,
    randomUUID(),
    r.projectId,
    r.runId,
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
 * A record's rows less the writer's settled columns, as UTF-8 from `arena` (Buffer.from when none).
 * Encoding each row on its own is cheaper than one chunk of concatenated rows: the chunk string is a rope
 * that has to be flattened, and one non-Latin-1 character in it makes all of it two bytes a character.
 */
function renderRows(r: StepRecord, arena?: ByteArena): RenderedRows {
  const encode = (text: string) => (arena ? arena.add(text) : Buffer.from(text));
  return {
    step: encode(renderedStepColumns(r)),
    invocation: r.invocation ? encode(renderedInvocationColumns(r)) : null,
  };
}

/**
 * `r` as the writer takes it from another thread: the facts it reads, the rows rendered and the ids copied
 * into `arena` (decoded ids are views of the request body, which would otherwise be copied with them).
 */
export function renderStep(r: StepRecord, arena: ByteArena): RenderedStep {
  const id = (bytes: Buffer | null) => (bytes === null ? null : arena.addBytes(bytes));
  const step: RenderedStep = {
    tenantId: r.tenantId,
    projectId: r.projectId,
    runId: r.runId,
    traceId: id(r.traceId),
    spanId: id(r.spanId),
    ts: r.ts,
    endTs: r.endTs,
    durationMs: r.durationMs,
    type: r.type,
    name: r.name,
    status: r.status,
    toolName: r.toolName,
    decisionTokenId: r.decisionTokenId,
    run: r.run,
    invocation: r.invocation ? { kind: r.invocation.kind } : null,
    rows: renderRows(r, arena),
  };
  if (r.stepId !== undefined) step.stepId = r.stepId;
  if (r.toolCall !== undefined) step.toolCall = r.toolCall;
  return step;
}

/** A step's rows: as its worker rendered them, or rendered now. */
export const rowsOf = (r: WritableStep): RenderedRows => ('rows' in r ? r.rows : renderRows(r));

/** A fresh step's rows with what the writer settled for it. */
export interface SettledStep {
  rows: RenderedRows;
  stepId: string;
  seq: number;
  violation: GovernanceViolation | null;
}

/** Writes the `step` rows of `steps` (settled columns first, then the rendered ones) on `client`. */
export function copyStepRows(client: PoolClient, steps: readonly SettledStep[]): Promise<void> {
  return copyRows(client, 'step', STEP_COPY_COLUMNS, steps, (s) => ({
    text: stepPrefix(s.stepId, s.seq, s.violation),
    bytes: s.rows.step,
  }));
}

/** Writes the `invocation` rows of those of `steps` that make one. */
export function copyInvocationRows(client: PoolClient, steps: readonly SettledStep[]): Promise<void> {
  const rows = steps.flatMap((s) =>
    s.rows.invocation ? [{ text: `${s.stepId}\t`, bytes: s.rows.invocation }] : [],
  );
  return copyRows(client, 'invocation', INVOCATION_COPY_COLUMNS, rows, (row) => row);
}

/**
 * Rows per chunk of COPY data. The writer builds a chunk, sends it, and lets the event loop run before the
 * next: in one process the query API and the live stream share that loop, and a large batch built in one
 * go held them up for its whole length (PostgreSQL also starts parsing while the rest is built).
 */
const COPY_CHUNK_ROWS = 256;

/** One COPY row: `text` (UTF-8 encoded here), then `bytes` when given; the newline is added. */
export interface RowParts {
  text: string;
  bytes?: Buffer;
}

/**
 * Streams `rows`, each made a COPY-format line by `line`, into `table` on `client` (inside the caller's
 * transaction, if any), a chunk at a time.
 * @example await copyRows(client, 'step', ['id', 'n'], rows, (row) => ({ text: `${row.id}\t${row.n}` }))
 */
export async function copyRows<T>(
  client: PoolClient,
  table: string,
  columns: readonly string[],
  rows: readonly T[],
  line: (row: T, index: number) => RowParts,
): Promise<void> {
  if (rows.length === 0) return;
  const stream = client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
  // Written by hand rather than with stream.pipeline(), which made an AbortController per COPY and
  // aborted it at the end (a DOMException with its stack trace): about 13% of the writer's main-thread
  // CPU on 4-span batches (5.5 against 4.8 ms a transaction).
  const done = finished(stream);
  done.catch(() => undefined); // awaited below; meanwhile a failure must not count as unhandled
  try {
    for await (const chunk of byteChunks(rows, line)) {
      if (!stream.write(chunk)) await Promise.race([once(stream, 'drain'), done]);
    }
  } catch (err) {
    // Sends CopyFail, so the connection leaves COPY mode (and can roll back) instead of waiting for rows.
    stream.destroy(err as Error);
    await done.catch(() => undefined);
    throw err;
  }
  stream.end();
  await done;
}

const NEWLINE = 0x0a;

async function* byteChunks<T>(
  rows: readonly T[],
  line: (row: T, index: number) => RowParts,
): AsyncGenerator<Buffer> {
  const parts: RowParts[] = [];
  for (let start = 0; start < rows.length; start += COPY_CHUNK_ROWS) {
    if (start > 0) await setImmediate();
    const end = Math.min(rows.length, start + COPY_CHUNK_ROWS);
    parts.length = 0;
    let size = 0;
    for (let i = start; i < end; i++) {
      const part = line(rows[i]!, i);
      parts.push(part);
      size += Buffer.byteLength(part.text) + (part.bytes?.length ?? 0) + 1;
    }
    const chunk = Buffer.allocUnsafe(size);
    let at = 0;
    for (const part of parts) {
      at += chunk.write(part.text, at);
      if (part.bytes) at += part.bytes.copy(chunk, at);
      chunk[at++] = NEWLINE;
    }
    yield chunk;
  }
}
