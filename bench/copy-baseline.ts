import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import {
  COPY_NULL,
  copyBool,
  copyBytea,
  copyNumber,
  copyText,
  copyTextArray,
  createPool,
  INVOCATION_COPY_COLUMNS,
  invocationCopyLine,
  mergeRun,
  type PoolClient,
  placeholderRun,
  STEP_COPY_COLUMNS,
  type StepRecord,
  stepCopyLine,
} from '@agentrace/store';
import { from as copyFrom } from 'pg-copy-streams';

/**
 * The baseline of the ingest benchmark: the rows the receiver's own normalization produces, written
 * straight into the same tables with COPY (no HTTP, no decode, no per-row SQL), to say how close the
 * end-to-end path comes to what PostgreSQL itself can take.
 */

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
      steps.push(stepCopyLine(r, stepId, i + 1));
      if (r.invocation) invocations.push(invocationCopyLine(r, stepId));
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
        copyText(state.name),
        state.status,
        state.startedAt,
        copyText(state.finishedAt),
        copyNumber(state.durationMs),
        copyBytea(first.traceId),
        copyText(state.parentRunId),
        copyText(state.sessionId),
        copyText(state.userId),
        copyText(state.agentName),
        copyText(JSON.stringify(state.tags)),
        copyTextArray(models),
        String(state.stepCount),
        String(state.toolCount),
        String(state.errorCount),
        String(leaves.reduce((a, r) => a + (r.invocation!.inputTokens ?? 0), 0)),
        String(leaves.reduce((a, r) => a + (r.invocation!.outputTokens ?? 0), 0)),
        costs.length > 0 ? String(costs.reduce((a, b) => a + b, 0)) : COPY_NULL,
        copyBool(state.hasRoot),
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
          await copyInto(client, 'step', STEP_COPY_COLUMNS, chunk.steps);
          await copyInto(client, 'invocation', INVOCATION_COPY_COLUMNS, chunk.invocations);
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
