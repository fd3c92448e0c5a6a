import type { Run, Step, StepListQuery } from '@agentrace/schemas';
import { type Queryable, RAW_JSONB } from './connection.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import {
  type RawJsonStepRow,
  RUN_STEP_COLUMNS,
  type RunStepRow,
  STEP_COLUMNS,
  STEP_PARENT_JOIN,
  type StepRow,
  toStep,
  toStepFields,
} from './row-mappers.ts';
import type { Page } from './run-queries.ts';
import { getRun } from './run-queries.ts';
import { Conditions } from './sql-builder.ts';
import { resolveParents } from './step-parents.ts';

/** Decodes a steps cursor (the last seq seen), or null when it is not one of ours. */
export function decodeSeqCursor(cursor: string): number | null {
  const value = decodeCursor(cursor);
  return value && Number.isInteger(value.seq) ? (value.seq as number) : null;
}

/**
 * A run's steps in seq order after `afterSeq`, optionally of one type.
 * @example await listSteps(pool, tenantId, runId, StepListQuery.parse({ type: 'tool' }), 0)
 */
export async function listSteps(
  pool: Queryable,
  tenantId: string,
  runId: string,
  query: StepListQuery,
  afterSeq: number,
): Promise<Page<Step>> {
  const where = new Conditions()
    .add('s.tenant_id = $', tenantId)
    .add('s.run_id = $', runId)
    .add('s.seq > $', afterSeq);
  where.addIf(query.type, 's.type = $');
  const limit = where.bind(query.limit + 1);
  const { rows } = await pool.query<StepRow>(
    `SELECT ${STEP_COLUMNS} FROM step s ${STEP_PARENT_JOIN} WHERE ${where.toSql()} ORDER BY s.seq LIMIT ${limit}`,
    where.params,
  );
  const more = rows.length > query.limit;
  const page = more ? rows.slice(0, query.limit) : rows;
  return {
    data: page.map(toStep),
    next_cursor: more ? encodeCursor({ seq: page[page.length - 1]!.seq }) : null,
  };
}

/** Every step of a run, in seq order, with parents still to resolve (`resolveParents`). */
const RUN_STEPS_SQL = `SELECT ${RUN_STEP_COLUMNS} FROM step s WHERE s.tenant_id = $1 AND s.run_id = $2 ORDER BY s.seq`;

/**
 * The run and its steps as a tree in time order (seq breaks ties), each with its depth, its start offset
 * from the run's start and its children, rendered as the API's JSON (`Timeline`). A step whose parent
 * never arrived is a top-level step. Rendered here rather than returned as objects because payloads pass
 * through as the text PostgreSQL sent: a 5,000-step run's answer is megabytes that would otherwise be
 * parsed and serialized again. Rendering the steps' JSON in PostgreSQL instead was measured slower for a
 * 5,000-step run: ~200 ms (json_build_object) or ~125 ms (text concatenation) of server time against
 * ~45 ms for these columns, more than the Node parsing and stringifying it would save; and a recursive
 * CTE for the depths re-read the run at every level (23 s for a 5,000-deep chain) where depthsOf is O(n).
 * `settled` is false while a step names a parent span that is not stored: when it arrives (in another
 * run: a sub-agent's root under its caller's span), this answer changes though its run did not.
 * @example const { json } = (await getTimelineJson(db, tenantId, runId))! // '{"run":{...},"steps":[...]}'
 */
export async function getTimelineJson(
  pool: Queryable,
  tenantId: string,
  runId: string,
): Promise<{ json: string; settled: boolean } | null> {
  const run = await getRun(pool, tenantId, runId);
  if (!run) return null;
  const { rows } = await pool.query<RawJsonStepRow & Pick<RunStepRow, 'parent_span_id'>>({
    text: RUN_STEPS_SQL,
    values: [tenantId, runId],
    types: RAW_JSONB,
  });
  const unresolved = await resolveParents(pool, tenantId, rows);
  const runStart = microsOf(run.started_at);
  const indexById = new Map(rows.map((row, i) => [row.id, i]));
  const parentIndex = rows.map((row) =>
    row.parent_step_id ? (indexById.get(row.parent_step_id) ?? -1) : -1,
  );
  const children: string[][] = rows.map(() => []);
  parentIndex.forEach((parent, i) => {
    if (parent >= 0) children[parent]!.push(rows[i]!.id);
  });
  const depth = depthsOf(parentIndex);
  const offsetMs = rows.map((row) => (microsOf(row.ts) - runStart) / 1000);
  // Time order; a parent and child that start in the same microsecond (common with millisecond clocks)
  // keep the parent first, and seq breaks the remaining ties.
  const order = rows.map((_, i) => i);
  order.sort((a, b) => offsetMs[a]! - offsetMs[b]! || depth[a]! - depth[b]! || rows[a]!.seq - rows[b]!.seq);
  const steps = order.map((i) => {
    const row = rows[i]!;
    const fields = JSON.stringify(toStepFields(row));
    return `${fields.slice(0, -1)},"payload":${row.payload},"redaction_meta":${row.redaction_meta},"depth":${depth[i]},"offset_ms":${offsetMs[i]},"children":${JSON.stringify(children[i])}}`;
  });
  return { json: `{"run":${JSON.stringify(run)},"steps":[${steps.join(',')}]}`, settled: unresolved === 0 };
}

/**
 * Every step of a run in seq order (a diff reads whole runs), or null when the tenant has no such run.
 * @example const run = await getRunWithSteps(pool, tenantId, runId) // { run, steps } | null
 */
export async function getRunWithSteps(
  pool: Queryable,
  tenantId: string,
  runId: string,
): Promise<{ run: Run; steps: Step[] } | null> {
  const run = await getRun(pool, tenantId, runId);
  return run ? { run, steps: (await runStepRows(pool, tenantId, runId)).map(toStep) } : null;
}

async function runStepRows(pool: Queryable, tenantId: string, runId: string): Promise<StepRow[]> {
  const { rows } = await pool.query<RunStepRow>(RUN_STEPS_SQL, [tenantId, runId]);
  await resolveParents(pool, tenantId, rows);
  return rows;
}

/**
 * Each step's depth in the tree, from each step's parent index (-1 for none), memoized so a deep chain
 * costs O(n), not O(n·depth). A parent cycle (only possible with bad data) is cut where it closes.
 */
function depthsOf(parentIndex: readonly number[]): number[] {
  const depths: number[] = new Array(parentIndex.length).fill(-1);
  const onChain = new Set<number>();
  for (let start = 0; start < parentIndex.length; start++) {
    const chain: number[] = [];
    onChain.clear();
    let cursor = start;
    while (cursor >= 0 && depths[cursor] === -1 && !onChain.has(cursor)) {
      chain.push(cursor);
      onChain.add(cursor);
      cursor = parentIndex[cursor]!;
    }
    let depth = cursor >= 0 && depths[cursor] !== -1 ? depths[cursor]! + 1 : 0;
    for (let i = chain.length - 1; i >= 0; i--) depths[chain[i]!] = depth++;
  }
  return depths;
}

/** Microseconds since the epoch of an RFC 3339 text with up to microsecond precision. */
function microsOf(text: string): number {
  const match = /\.(\d+)Z$/.exec(text);
  const fraction = match ? Number(match[1]!.padEnd(6, '0').slice(0, 6)) : 0;
  return Math.floor(Date.parse(text) / 1000) * 1_000_000 + fraction;
}
