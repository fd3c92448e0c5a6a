import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { bindToolSteps, countViolations } from './binding.ts';
import type { StepFacts, StepOutcome, WritableStep } from './ingest-types.ts';
import { copyInvocationRows, copyStepRows, rowsOf } from './copy-rows.ts';
import { bumpLateCallDays } from './invocation-stats.ts';
import { mergeRun, placeholderRun, type RunState } from './run-merge.ts';
import { TIMESTAMP_TEXT } from './sql-fragments.ts';
import { type NewStreamEvent, recordStreamEvents } from './stream-events.ts';
import { rollUpRunUsage } from './usage-rollup.ts';

// Deadlocks (40P01) and a unique race on a span claimed under another run's lock (23505) are retried whole.
const UNIQUE_VIOLATION = '23505';
const RETRYABLE_SQLSTATES = new Set(['40P01', UNIQUE_VIOLATION, '40001']);
const MAX_ATTEMPTS = 4;
// The writer's statements are named: each connection parses them once. They are still planned for each
// batch's own arrays (createPool sets plan_cache_mode): a generic plan made while the tables were tiny
// scanned them whole.

/**
 * Writes a batch of steps in one transaction: creates missing runs, locks the touched runs in a fixed
 * order, drops steps already stored (a span id or a client step id seen before: idempotent re-delivery), assigns gap-free per-run `seq`, inserts
 * steps and invocations, and folds the new steps into the runs' aggregates. Resolves once committed.
 * @example const outcomes = await writeSteps(pool, records); // outcomes[i] belongs to records[i]
 */
export async function writeSteps(pool: Pool, records: readonly WritableStep[]): Promise<StepOutcome[]> {
  if (records.length === 0) return [];
  // Spans of a run this transaction creates cannot be stored yet, so they skip the dedupe lookup; only a
  // sender that re-sends a span with another run id (other attributes) breaks that, and its unique
  // violation is retried with every span looked up.
  let lookUpAll = false;
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const outcomes = await writeInTransaction(client, records, lookUpAll);
      await client.query('COMMIT');
      return outcomes;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      const code = (err as { code?: string }).code;
      if (code === UNIQUE_VIOLATION) lookUpAll = true;
      if (attempt >= MAX_ATTEMPTS || !code || !RETRYABLE_SQLSTATES.has(code)) throw err;
    } finally {
      client.release();
    }
  }
}

const runKey = (tenantId: string, runId: string) => `${tenantId}/${runId}`;
const spanKey = (tenantId: string, traceId: Buffer | null, spanId: Buffer) =>
  `${tenantId}/span/${traceId?.toString('hex')}/${spanId.toString('hex')}`;
const stepIdKey = (tenantId: string, stepId: string) => `${tenantId}/step/${stepId}`;
/** What identifies a re-delivery of `record`: its span, else its client step id; null when nothing does. */
const dedupeKey = (r: StepFacts) =>
  r.spanId ? spanKey(r.tenantId, r.traceId, r.spanId) : r.stepId ? stepIdKey(r.tenantId, r.stepId) : null;

type StoredStep = { stepId: string; runId: string; seq: number };

async function writeInTransaction(
  client: PoolClient,
  records: readonly WritableStep[],
  lookUpAll: boolean,
): Promise<StepOutcome[]> {
  const firstOfRun = new Map<string, WritableStep>();
  for (const r of records) {
    const key = runKey(r.tenantId, r.runId);
    if (!firstOfRun.has(key)) firstOfRun.set(key, r);
  }
  // A fixed lock order across writers is what keeps concurrent batches of shared runs deadlock-free.
  const runs = [...firstOfRun.values()].sort((a, b) =>
    a.tenantId === b.tenantId ? (a.runId < b.runId ? -1 : 1) : a.tenantId < b.tenantId ? -1 : 1,
  );
  const created = await insertPlaceholderRuns(client, runs);
  const states = await lockRuns(client, runs);
  const stored = await findStoredSteps(
    client,
    lookUpAll ? records : records.filter((r) => !r.spanId || !created.has(runKey(r.tenantId, r.runId))),
  );

  const outcomes: StepOutcome[] = new Array(records.length);
  const fresh: { record: WritableStep; stepId: string; seq: number; outcome: StepOutcome }[] = [];
  const freshByRun = new Map<string, WritableStep[]>();
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    const key = dedupeKey(record);
    const already = key ? stored.get(key) : undefined;
    if (already) {
      outcomes[i] = { ...already, duplicate: true };
      continue;
    }
    const rk = runKey(record.tenantId, record.runId);
    const state = states.get(rk)!;
    const outcome = {
      stepId: record.stepId ?? randomUUID(),
      runId: record.runId,
      seq: state.nextSeq++,
      duplicate: false,
    };
    outcomes[i] = outcome;
    // A step repeated inside one batch is stored once; later copies answer as duplicates of the first.
    if (key) stored.set(key, outcome);
    fresh.push({ record, ...outcome, outcome });
    const list = freshByRun.get(rk) ?? [];
    list.push(record);
    freshByRun.set(rk, list);
  }
  if (fresh.length === 0) return outcomes;

  // Under the run locks too: which tokens the batch uses up, and which tool steps break the binding.
  const violations = await bindToolSteps(client, fresh, (r) => ({
    ...states.get(runKey(r.tenantId, r.runId))!.tags,
    ...r.run.tags,
  }));
  for (const [i, violation] of violations) fresh[i]!.outcome.governanceViolation = violation;
  // Seq, ids and duplicates are settled above under the run locks, so plain COPY is safe (and a stray
  // unique race aborts the transaction, which is retried whole).
  const settled = fresh.map((f, i) => ({
    rows: rowsOf(f.record),
    stepId: f.stepId,
    seq: f.seq,
    violation: violations.get(i) ?? null,
  }));
  await copyStepRows(client, settled);
  await copyInvocationRows(client, settled);
  await bumpLateCallDays(
    client,
    fresh.flatMap((f) => (f.record.invocation ? [f.record] : [])),
  );
  await updateRuns(client, runs, states, freshByRun);
  await countViolations(client, fresh, violations);
  const usageRuns = runs.filter((r) =>
    freshByRun
      .get(runKey(r.tenantId, r.runId))
      ?.some((s) => s.invocation?.kind === 'model' || s.invocation?.kind === 'embedding'),
  );
  if (usageRuns.length > 0) await rollUpRunUsage(client, usageRuns);
  // Last, so that the events' time is close to the commit that publishes them. A run's new steps took
  // the contiguous seqs just below its next one, so one row names them all: readers expand it into an
  // event per step.
  const touched = runs.filter((r) => freshByRun.has(runKey(r.tenantId, r.runId)));
  await recordStreamEvents(client, [
    ...touched.map((r): NewStreamEvent => {
      const rk = runKey(r.tenantId, r.runId);
      const stepCount = freshByRun.get(rk)!.length;
      return {
        ...eventScope(r),
        type: 'step.created',
        firstSeq: states.get(rk)!.nextSeq - stepCount,
        stepCount,
      };
    }),
    ...touched.map((r): NewStreamEvent => ({ ...eventScope(r), type: 'run.updated', objectId: r.runId })),
  ]);
  return outcomes;
}

const eventScope = (r: StepFacts) => ({
  tenantId: r.tenantId,
  projectId: r.projectId,
  runId: r.runId,
  traceId: r.traceId,
});

/** Inserts the runs not stored yet; returns the keys (`runKey`) of those it created. */
async function insertPlaceholderRuns(client: PoolClient, runs: StepFacts[]): Promise<Set<string>> {
  const { rows } = await client.query<{ tenant_id: string; id: string }>({
    name: 'ingest-insert-runs',
    text: `INSERT INTO run (tenant_id, id, project_id, name, status, started_at, trace_id)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::timestamptz[], $7::bytea[])
     ORDER BY 1, 2
     ON CONFLICT (tenant_id, id) DO NOTHING
     RETURNING tenant_id, id`,
    values: [
      runs.map((r) => r.tenantId),
      runs.map((r) => r.runId),
      runs.map((r) => r.projectId),
      runs.map((r) => placeholderRun(r).name),
      runs.map(() => 'running'),
      runs.map((r) => r.ts),
      runs.map((r) => r.traceId),
    ],
  });
  return new Set(rows.map((row) => runKey(row.tenant_id, row.id)));
}

interface RunRow {
  tenant_id: string;
  id: string;
  name: string;
  status: RunState['status'];
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
  has_root: boolean;
  declared: boolean;
  session_id: string | null;
  user_id: string | null;
  agent_name: string | null;
  parent_run_id: string | null;
  tags: Record<string, string>;
  step_count: number;
  tool_count: number;
  error_count: number;
  next_seq: number;
}

async function lockRuns(client: PoolClient, runs: StepFacts[]): Promise<Map<string, RunState>> {
  const { rows } = await client.query<RunRow>({
    name: 'ingest-lock-runs',
    text: `SELECT tenant_id, id, name, status, ${TIMESTAMP_TEXT('started_at')} AS started_at,
            ${TIMESTAMP_TEXT('finished_at')} AS finished_at, duration_ms, has_root, declared, session_id, user_id,
            agent_name, parent_run_id, tags, step_count, tool_count, error_count, next_seq
     FROM run WHERE (tenant_id, id) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[]))
     ORDER BY tenant_id, id FOR UPDATE`,
    values: [runs.map((r) => r.tenantId), runs.map((r) => r.runId)],
  });
  const states = new Map<string, RunState>();
  for (const row of rows) {
    states.set(runKey(row.tenant_id, row.id), {
      name: row.name,
      status: row.status,
      startedAt: row.started_at,
      finishedAt: row.finished_at,
      durationMs: row.duration_ms,
      hasRoot: row.has_root,
      declared: row.declared,
      sessionId: row.session_id,
      userId: row.user_id,
      agentName: row.agent_name,
      parentRunId: row.parent_run_id,
      tags: row.tags,
      stepCount: row.step_count,
      toolCount: row.tool_count,
      errorCount: row.error_count,
      nextSeq: row.next_seq,
    });
  }
  return states;
}

/** The steps of `records` already stored, by dedupeKey. */
async function findStoredSteps(
  client: PoolClient,
  records: readonly StepFacts[],
): Promise<Map<string, StoredStep>> {
  const stored = new Map<string, StoredStep>();
  const withSpan = records.filter((r) => r.spanId);
  if (withSpan.length > 0) {
    const { rows } = await client.query<{
      tenant_id: string;
      trace_id: Buffer;
      span_id: Buffer;
      id: string;
      run_id: string;
      seq: number;
    }>({
      name: 'ingest-stored-spans',
      text: `SELECT tenant_id, trace_id, span_id, id, run_id, seq FROM step
       WHERE (tenant_id, trace_id, span_id) IN (SELECT * FROM unnest($1::uuid[], $2::bytea[], $3::bytea[]))`,
      values: [
        withSpan.map((r) => r.tenantId),
        withSpan.map((r) => r.traceId),
        withSpan.map((r) => r.spanId),
      ],
    });
    for (const row of rows) {
      stored.set(spanKey(row.tenant_id, row.trace_id, row.span_id), {
        stepId: row.id,
        runId: row.run_id,
        seq: row.seq,
      });
    }
  }
  // Client step ids are unique per tenant (the step's primary key), whichever run holds them.
  const withStepId = records.filter((r) => !r.spanId && r.stepId);
  if (withStepId.length > 0) {
    const { rows } = await client.query<{ tenant_id: string; id: string; run_id: string; seq: number }>({
      name: 'ingest-stored-step-ids',
      text: `SELECT tenant_id, id, run_id, seq FROM step
       WHERE (tenant_id, id) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[]))`,
      values: [withStepId.map((r) => r.tenantId), withStepId.map((r) => r.stepId)],
    });
    for (const row of rows)
      stored.set(stepIdKey(row.tenant_id, row.id), { stepId: row.id, runId: row.run_id, seq: row.seq });
  }
  return stored;
}

async function updateRuns(
  client: PoolClient,
  runs: StepFacts[],
  states: Map<string, RunState>,
  freshByRun: Map<string, StepFacts[]>,
): Promise<void> {
  const touched = runs
    .map((r) => {
      const key = runKey(r.tenantId, r.runId);
      const steps = freshByRun.get(key);
      return steps ? { r, state: mergeRun(states.get(key)!, steps) } : null;
    })
    .filter((x) => x !== null);
  const col = <T>(f: (x: (typeof touched)[number]) => T) => touched.map(f);
  await client.query({
    name: 'ingest-update-runs',
    text: `UPDATE run r SET name = d.name, status = d.status, started_at = d.started_at, finished_at = d.finished_at,
       duration_ms = d.duration_ms, has_root = d.has_root, session_id = d.session_id, user_id = d.user_id,
       agent_name = d.agent_name, parent_run_id = d.parent_run_id, tags = d.tags, step_count = d.step_count,
       tool_count = d.tool_count, error_count = d.error_count, next_seq = d.next_seq, updated_at = clock_timestamp()
     FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[],
       $7::float8[], $8::bool[], $9::text[], $10::text[], $11::text[], $12::uuid[], $13::jsonb[], $14::int[],
       $15::int[], $16::int[], $17::bigint[])
       AS d(tenant_id, id, name, status, started_at, finished_at, duration_ms, has_root, session_id, user_id,
            agent_name, parent_run_id, tags, step_count, tool_count, error_count, next_seq)
     WHERE r.tenant_id = d.tenant_id AND r.id = d.id`,
    values: [
      col((x) => x.r.tenantId),
      col((x) => x.r.runId),
      col((x) => x.state.name),
      col((x) => x.state.status),
      col((x) => x.state.startedAt),
      col((x) => x.state.finishedAt),
      col((x) => x.state.durationMs),
      col((x) => x.state.hasRoot),
      col((x) => x.state.sessionId),
      col((x) => x.state.userId),
      col((x) => x.state.agentName),
      col((x) => x.state.parentRunId),
      col((x) => JSON.stringify(x.state.tags)),
      col((x) => x.state.stepCount),
      col((x) => x.state.toolCount),
      col((x) => x.state.errorCount),
      col((x) => x.state.nextSeq),
    ],
  });
}
