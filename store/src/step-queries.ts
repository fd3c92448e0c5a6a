import type { Run, Step, StepListQuery, TimelineStep } from '@agentrace/schemas';
import type { Queryable } from './connection.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { STEP_COLUMNS, STEP_PARENT_JOIN, type StepRow, toStep } from './row-mappers.ts';
import type { Page } from './run-queries.ts';
import { getRun } from './run-queries.ts';
import { Conditions } from './sql-builder.ts';

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
  const where = new Conditions().add('s.tenant_id = $', tenantId).add('s.run_id = $', runId).add('s.seq > $', afterSeq);
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

/**
 * The run and its steps as a tree in time order (seq breaks ties), each with its depth, its start offset
 * from the run's start and its children. A step whose parent never arrived is a top-level step.
 */
export async function getTimeline(
  pool: Queryable,
  tenantId: string,
  runId: string,
): Promise<{ run: Run; steps: TimelineStep[] } | null> {
  const run = await getRun(pool, tenantId, runId);
  if (!run) return null;
  const rows = await runStepRows(pool, tenantId, runId);
  const runStart = microsOf(run.started_at);
  const steps = rows.map(toStep);
  const byId = new Map<string, TimelineStep>();
  const timeline: TimelineStep[] = steps.map((step, i) => {
    const node: TimelineStep = {
      ...step,
      depth: 0,
      offset_ms: (microsOf(rows[i]!.ts) - runStart) / 1000,
      children: [],
    };
    byId.set(step.step_id, node);
    return node;
  });
  for (const node of timeline) {
    const parent = node.parent_step_id ? byId.get(node.parent_step_id) : undefined;
    if (parent) parent.children.push(node.step_id);
  }
  const depths = depthsOf(timeline, byId);
  for (const node of timeline) node.depth = depths.get(node.step_id)!;
  // Time order; a parent and child that start in the same microsecond (common with millisecond clocks)
  // keep the parent first, and seq breaks the remaining ties.
  timeline.sort((a, b) => a.offset_ms - b.offset_ms || a.depth - b.depth || a.seq - b.seq);
  return { run, steps: timeline };
}

/**
 * Every step of a run in seq order (a diff reads whole runs), or null when the tenant has no such run.
 * @example const run = await getRunWithSteps(pool, tenantId, runId) // { run, steps } | null
 */
export async function getRunWithSteps(pool: Queryable, tenantId: string, runId: string): Promise<{ run: Run; steps: Step[] } | null> {
  const run = await getRun(pool, tenantId, runId);
  return run ? { run, steps: (await runStepRows(pool, tenantId, runId)).map(toStep) } : null;
}

async function runStepRows(pool: Queryable, tenantId: string, runId: string): Promise<StepRow[]> {
  const { rows } = await pool.query<StepRow>(
    `SELECT ${STEP_COLUMNS} FROM step s ${STEP_PARENT_JOIN} WHERE s.tenant_id = $1 AND s.run_id = $2 ORDER BY s.seq`,
    [tenantId, runId],
  );
  return rows;
}

/**
 * Each step's depth in the tree, memoized so a deep chain costs O(n), not O(n·depth). A parent cycle
 * (only possible with bad data) is cut where it closes.
 */
function depthsOf(nodes: TimelineStep[], byId: Map<string, TimelineStep>): Map<string, number> {
  const depths = new Map<string, number>();
  for (const node of nodes) {
    const chain: TimelineStep[] = [];
    const onChain = new Set<string>();
    let cursor: TimelineStep | undefined = node;
    while (cursor && !depths.has(cursor.step_id) && !onChain.has(cursor.step_id)) {
      chain.push(cursor);
      onChain.add(cursor.step_id);
      cursor = cursor.parent_step_id ? byId.get(cursor.parent_step_id) : undefined;
    }
    let depth = cursor && depths.has(cursor.step_id) ? depths.get(cursor.step_id)! + 1 : 0;
    for (let i = chain.length - 1; i >= 0; i--) depths.set(chain[i]!.step_id, depth++);
  }
  return depths;
}

/** Microseconds since the epoch of an RFC 3339 text with up to microsecond precision. */
function microsOf(text: string): number {
  const match = /\.(\d+)Z$/.exec(text);
  const fraction = match ? Number(match[1]!.padEnd(6, '0').slice(0, 6)) : 0;
  return Math.floor(Date.parse(text) / 1000) * 1_000_000 + fraction;
}
