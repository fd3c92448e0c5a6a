import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run, step, thought, traceModelCall, traceTool } from '@agentrace/instrumentation';
import { listOf, Run, Step } from '@agentrace/schemas';
import { type DiagLogger, DiagLogLevel, diag } from '@opentelemetry/api';
import { expect } from 'vitest';
import type { TestServer } from '../../../cli/src/testing/test-server.ts';

/** Spans one `agentRun` emits: the run, a step, a thought, a model call and a tool call. */
export const SPANS_PER_RUN = 5;

/** A small agent run through the real instrumentation; resolves with its trace id. */
export function agentRun(label: string): Promise<string> {
  return run(`run ${label}`, { agent: 'spooler' }, async ({ traceId }) => {
    await step('chain', 'plan', async () => thought(`plan for ${label}`));
    await traceModelCall({ taskType: 'plan', provider: 'openai', model: 'gpt-4o-mini' }, async () => ({
      model: 'gpt-4o-mini',
      usage: { prompt_tokens: 10, completion_tokens: 5 },
    }));
    await traceTool('lookup', async () => 'ok');
    return traceId;
  });
}

const tempDirs: string[] = [];

/** A fresh directory under the OS temp dir, removed by `removeTempDirs`. */
export function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'agentrace-exporter-test-'));
  tempDirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export const segmentFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.seg'));

/** A copy of a spool's segments, to replay the same requests a second time. */
export function copySegments(dir: string): string {
  const copy = tempDir();
  for (const file of segmentFiles(dir)) cpSync(path.join(dir, file), path.join(copy, file));
  return copy;
}

/**
 * Asserts that each trace is one finished run whose spans are each stored once, and nothing else is stored.
 * Reads the database: a check of hundreds of traces through the API would meet its rate limit.
 */
export async function expectStoredOnce(server: TestServer, traceIds: string[]): Promise<void> {
  const { rows: runs } = await server.db.pool.query<{
    trace_id: string;
    status: string;
    step_count: number;
    input_tokens: number;
  }>(
    "SELECT encode(trace_id, 'hex') AS trace_id, status, step_count, input_tokens::int AS input_tokens FROM run",
  );
  expect(runs.map((r) => r.trace_id).sort()).toEqual([...traceIds].sort());
  for (const run of runs)
    expect(run).toMatchObject({ status: 'succeeded', step_count: SPANS_PER_RUN, input_tokens: 10 });
  const { rows } = await server.db.pool.query<{ n: number; distinct_spans: number }>(
    'SELECT count(*)::int AS n, count(DISTINCT (trace_id, span_id))::int AS distinct_spans FROM step',
  );
  expect(rows[0]).toEqual({
    n: traceIds.length * SPANS_PER_RUN,
    distinct_spans: traceIds.length * SPANS_PER_RUN,
  });
}

/** Asserts through the query API that the run of `traceId` has its steps in seq order, each span once. */
export async function expectRunThroughApi(server: TestServer, traceId: string): Promise<void> {
  const runs = listOf(Run).parse((await server.api(`/v1/runs?trace_id=${traceId}`)).body).data;
  expect(runs).toEqual([expect.objectContaining({ status: 'succeeded', step_count: SPANS_PER_RUN })]);
  const steps = listOf(Step).parse((await server.api(`/v1/runs/${runs[0]!.run_id}/steps`)).body).data;
  expect(new Set(steps.map((s) => s.span_id)).size).toBe(SPANS_PER_RUN);
  expect(steps.map((s) => s.seq)).toEqual([1, 2, 3, 4, 5]);
}

/** Polls `check` until it stops throwing, for at most `ms`. */
export async function eventually(check: () => Promise<void>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Keeps what OTel diag is told, from warnings up. */
export function captureDiag(): { messages: string[]; stop(): void } {
  const messages: string[] = [];
  const keep = (message: string, ...args: unknown[]) =>
    messages.push([message, ...args.map(String)].join(' '));
  const logger: DiagLogger = { error: keep, warn: keep, info: () => {}, debug: () => {}, verbose: () => {} };
  diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  return { messages, stop: () => diag.disable() };
}

/**
 * A real HTTP server on loopback that answers every request with `status` (a receiver in trouble),
 * after `delayMs` (a slow one).
 */
export async function answeringServer(
  status: number,
  headers: Record<string, string> = {},
  delayMs = 0,
): Promise<{ url: string; port: number; requests: () => number; close(): Promise<void> }> {
  let requests = 0;
  const server: Server = createServer((req, res) => {
    requests += 1;
    req.resume();
    req.on('end', () => setTimeout(() => res.writeHead(status, headers).end(), delayMs));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests: () => requests,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
