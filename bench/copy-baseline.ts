import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { createPool, mergeRun, type PoolClient, placeholderRun, type StepRecord } from '@agentrace/store';
import { from as copyFrom } from 'pg-copy-streams';

/**
 * The baseline of the ingest benchmark: the rows the receiver's own normalization produces, written
 * straight into the same tables with COPY (no HTTP, no decode, no per-row SQL), to say how close the
 * end-to-end path comes to what PostgreSQL itself can take.
 */

// COPY's text format: backslash escapes for the four characters that would break a row, `\N` for null.
const SPECIAL = /[\\\n\r\t]/;
const SPECIAL_ALL = /[\\\n\r\t]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const NULL = '\\N';

const text = (v: string | null | undefined): string =>
  v === null || v === undefined ? NULL : SPECIAL.test(v) ? v.replace(SPECIAL_ALL, (c) => ESCAPES[c]!) : v;
const num = (v: number | null | undefined): string => (v === null || v === undefined ? NULL : String(v));
const bool = (v: boolean): string => (v ? 't' : 'f');
// bytea in hex form (`\x0a1b…`); the backslash is itself escaped for COPY.
const bytea = (v: Buffer | null): string => (v === null ? NULL : `\\\\x${v.toString('hex')}`);
const json = (v: string | null): string => text(v);
/** A text[] literal: every element quoted, `"` and `\` escaped inside the quotes, then escaped for COPY. */
const textArray = (vs: readonly string[]): string =>
  text(`{${vs.map((v) => `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`);

export const STEP_COLUMNS = [
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
  'payload',
  'payload_hash',
  'redaction_meta',
  'schema_version',
  'resource',
  'scope',
] as const;

export const INVOCATION_COLUMNS = [
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

export const RUN_COLUMNS = [
  'tenant_id',
  'id',
  'project_id',
  'name',
  'status',
  'started_at',
  'finished_at',
  'duration_ms',
  'trace_id',
  'parent_run_id',
  'session_id',
  'user_id',
  'agent_name',
  'tags',
  'model_names',
  'step_count',
  'tool_count',
  'error_count',
  'input_tokens',
  'output_tokens',
  'cost_usd',
  'has_root',
  'next_seq',
] as const;

function stepLine(r: StepRecord, stepId: string, seq: number): string {
  return [
    r.tenantId,
    stepId,
    r.runId,
    String(seq),
    text(r.parentStepId),
    bytea(r.traceId),
    bytea(r.spanId),
    bytea(r.parentSpanId),
    r.ts,
    text(r.endTs),
    num(r.durationMs),
    r.type,
    text(r.name),
    r.status,
    text(r.errorType),
    text(r.errorMessage),
    text(r.errorStack),
    text(r.model),
    text(r.requestModel),
    text(r.provider),
    text(r.toolName),
    text(r.agentName),
    num(r.inputTokens),
    num(r.outputTokens),
    num(r.costUsd),
    text(r.decisionTokenId),
    json(r.payloadJson),
    r.payloadHash,
    json(JSON.stringify(r.redactionMeta)),
    String(r.schemaVersion),
    json(r.resourceJson),
    json(r.scopeJson),
  ].join('\t');
}

function invocationLine(r: StepRecord, stepId: string): string {
  const inv = r.invocation!;
  return [
    r.tenantId,
    randomUUID(),
    r.projectId,
    r.runId,
    stepId,
    bytea(r.traceId),
    bytea(r.spanId),
    bytea(r.parentSpanId),
    inv.kind,
    text(inv.target),
    text(inv.method),
    text(inv.invoker),
    text(inv.taskType),
    text(inv.provider),
    text(inv.model),
    text(inv.toolName),
    text(inv.artifactId),
    bool(inv.success),
    text(inv.errorType),
    text(inv.errorMessage),
    r.ts,
    num(inv.latencyMs),
    num(inv.inputTokens),
    num(inv.outputTokens),
    num(inv.cachedInputTokens),
    num(inv.cacheWriteTokens),
    num(inv.reasoningTokens),
    num(inv.costUsd),
    text(inv.costSource),
  ].join('\t');
}

/** The COPY data of some whole runs: run, step and invocation rows, in COPY text format. */
export interface CopyChunk {
  runs: Buffer;
  steps: Buffer;
  invocations: Buffer;
  runCount: number;
  stepCount: number;
  invocationCount: number;
}

/**
 * COPY rows for `records` (whole runs, in arrival order), with what the ingest writer would store: ids,
 * gap-free per-run seq, and each run's row folded from its steps by the writer's own `mergeRun`, with
 * tokens and cost summed over leaf model calls.
 */
export function copyChunk(records: readonly StepRecord[]): CopyChunk {
  const byRun = new Map<string, StepRecord[]>();
  for (const r of records) {
    const key = `${r.tenantId}/${r.runId}`;
    const list = byRun.get(key);
    if (list) list.push(r);
    else byRun.set(key, [r]);
  }
  const steps: string[] = [];
  const invocations: string[] = [];
  const runs: string[] = [];
  for (const list of byRun.values()) {
    const first = list[0]!;
    list.forEach((r, i) => {
      const stepId = randomUUID();
      steps.push(stepLine(r, stepId, i + 1));
      if (r.invocation) invocations.push(invocationLine(r, stepId));
    });
    const state = mergeRun(placeholderRun(first), list);
    const isUsage = (r: StepRecord) => r.invocation?.kind === 'model' || r.invocation?.kind === 'embedding';
    const parentsOfCalls = new Set(list.filter(isUsage).map((r) => r.parentSpanId?.toString('hex')));
    const leaves = list.filter((r) => isUsage(r) && !parentsOfCalls.has(r.spanId?.toString('hex')));
    const costs = leaves.map((r) => r.invocation!.costUsd).filter((c) => c !== null);
    const models = [
      ...new Set(
        list
          .filter(isUsage)
          .map((r) => r.invocation!.model)
          .filter((m) => m !== null),
      ),
    ].sort();
    runs.push(
      [
        first.tenantId,
        first.runId,
        first.projectId,
        text(state.name),
        state.status,
        state.startedAt,
        text(state.finishedAt),
        num(state.durationMs),
        bytea(first.traceId),
        text(state.parentRunId),
        text(state.sessionId),
        text(state.userId),
        text(state.agentName),
        json(JSON.stringify(state.tags)),
        textArray(models),
        String(state.stepCount),
        String(state.toolCount),
        String(state.errorCount),
        String(leaves.reduce((a, r) => a + (r.invocation!.inputTokens ?? 0), 0)),
        String(leaves.reduce((a, r) => a + (r.invocation!.outputTokens ?? 0), 0)),
        costs.length > 0 ? String(costs.reduce((a, b) => a + b, 0)) : NULL,
        bool(state.hasRoot),
        String(list.length + 1),
      ].join('\t'),
    );
  }
  const toBuffer = (lines: string[]) => Buffer.from(lines.length > 0 ? `${lines.join('\n')}\n` : '', 'utf8');
  return {
    runs: toBuffer(runs),
    steps: toBuffer(steps),
    invocations: toBuffer(invocations),
    runCount: runs.length,
    stepCount: steps.length,
    invocationCount: invocations.length,
  };
}

async function copyInto(
  client: PoolClient,
  table: string,
  columns: readonly string[],
  data: Buffer,
): Promise<void> {
  if (data.length === 0) return;
  const stream = client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
  await pipeline(Readable.from([data]), stream);
}

export interface BaselineResult<T> {
  seconds: number;
  /** What `probe` gave right before and right after the timed COPYs (while the sessions were open). */
  probed: { before: T; after: T } | null;
  steps: number;
  invocations: number;
  runs: number;
  transactions: number;
}

/**
 * Writes the chunks with `connections` concurrent COPY sessions; each chunk is one transaction (COPY run,
 * COPY step, COPY invocation, COMMIT), as the ingest writer commits one batch per transaction. Only this
 * is timed.
 */
export async function runCopyBaseline<T>(
  url: string,
  chunks: readonly CopyChunk[],
  connections: number,
  probe?: () => Promise<T>,
): Promise<BaselineResult<T>> {
  const pool = createPool(url, connections);
  // Open the sessions before the clock starts, and keep them until it stops (a probe of the server's CPU
  // must not miss backends that exit).
  const clients = await Promise.all(Array.from({ length: connections }, () => pool.connect()));
  try {
    const before = probe ? await probe() : null;
    let next = 0;
    const started = performance.now();
    await Promise.all(
      clients.map(async (client) => {
        for (let i = next++; i < chunks.length; i = next++) {
          const chunk = chunks[i]!;
          await client.query('BEGIN');
          await copyInto(client, 'run', RUN_COLUMNS, chunk.runs);
          await copyInto(client, 'step', STEP_COLUMNS, chunk.steps);
          await copyInto(client, 'invocation', INVOCATION_COLUMNS, chunk.invocations);
          await client.query('COMMIT');
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const after = probe ? await probe() : null;
    return {
      seconds,
      probed: probe ? { before: before as T, after: after as T } : null,
      steps: chunks.reduce((a, c) => a + c.stepCount, 0),
      invocations: chunks.reduce((a, c) => a + c.invocationCount, 0),
      runs: chunks.reduce((a, c) => a + c.runCount, 0),
      transactions: chunks.length,
    };
  } finally {
    for (const client of clients) client.release();
    await pool.end();
  }
}
