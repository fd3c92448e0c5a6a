import { notFound, parseId, RunListQuery, StepListQuery } from '@agentrace/schemas';
import {
  decodeSeqCursor,
  decodeTimeCursor,
  getRun,
  getTimeline,
  listRuns,
  listSteps,
  type Pool,
  withTenant,
} from '@agentrace/store';
import { Router } from 'express';
import { principalOf } from '../auth.ts';
import { parseCursor, parseQuery, splitTagFilters } from '../parse-request.ts';

/**
 * `GET /v1/runs`, `/v1/runs/{id}`, `/v1/runs/{id}/steps`, `/v1/runs/{id}/timeline`; each read runs as the
 * application role of the key's tenant (row-level security backs the tenant filter).
 */
export function runsRouter(pool: Pool): Router {
  const router = Router();

  router.get('/v1/runs', async (req, res) => {
    const { rest, tags } = splitTagFilters(req.query as Record<string, unknown>);
    const query = parseQuery(RunListQuery, rest, { tags });
    const after = parseCursor(query.cursor, decodeTimeCursor);
    const { tenantId } = principalOf(res);
    res.json(await withTenant(pool, tenantId, (db) => listRuns(db, tenantId, query, after)));
  });

  router.get('/v1/runs/:runId', async (req, res) => {
    const runId = parseId(req.params.runId, 'run_id');
    const { tenantId } = principalOf(res);
    const run = await withTenant(pool, tenantId, (db) => getRun(db, tenantId, runId));
    if (!run) throw notFound('run');
    res.json(run);
  });

  router.get('/v1/runs/:runId/steps', async (req, res) => {
    const tenantId = principalOf(res).tenantId;
    const runId = parseId(req.params.runId, 'run_id');
    const query = parseQuery(StepListQuery, req.query as Record<string, unknown>);
    const afterCursor = parseCursor(query.cursor, decodeSeqCursor);
    const afterSeq = Math.max(afterCursor ?? 0, query.after_seq ?? 0);
    const page = await withTenant(pool, tenantId, async (db) =>
      (await getRun(db, tenantId, runId)) ? listSteps(db, tenantId, runId, query, afterSeq) : null,
    );
    if (!page) throw notFound('run');
    res.json(page);
  });

  router.get('/v1/runs/:runId/timeline', async (req, res) => {
    parseQuery(StepListQuery.pick({}), req.query as Record<string, unknown>);
    const runId = parseId(req.params.runId, 'run_id');
    const { tenantId } = principalOf(res);
    const timeline = await withTenant(pool, tenantId, (db) => getTimeline(db, tenantId, runId));
    if (!timeline) throw notFound('run');
    res.json(timeline);
  });

  return router;
}
