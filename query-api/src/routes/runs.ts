import { notFound, parseId, RunListQuery, StepListQuery } from '@agentrace/schemas';
import {
  decodeSeqCursor,
  decodeTimeCursor,
  getRun,
  getTimeline,
  listRuns,
  listSteps,
  type Pool,
} from '@agentrace/store';
import { Router } from 'express';
import { principalOf } from '../auth.ts';
import { parseCursor, parseQuery, splitTagFilters } from '../parse-request.ts';

/** `GET /v1/runs`, `/v1/runs/{id}`, `/v1/runs/{id}/steps`, `/v1/runs/{id}/timeline`. */
export function runsRouter(pool: Pool): Router {
  const router = Router();

  router.get('/v1/runs', async (req, res) => {
    const { rest, tags } = splitTagFilters(req.query as Record<string, unknown>);
    const query = parseQuery(RunListQuery, rest, { tags });
    const after = parseCursor(query.cursor, decodeTimeCursor);
    res.json(await listRuns(pool, principalOf(res).tenantId, query, after));
  });

  router.get('/v1/runs/:runId', async (req, res) => {
    const run = await getRun(pool, principalOf(res).tenantId, parseId(req.params.runId, 'run_id'));
    if (!run) throw notFound('run');
    res.json(run);
  });

  router.get('/v1/runs/:runId/steps', async (req, res) => {
    const tenantId = principalOf(res).tenantId;
    const runId = parseId(req.params.runId, 'run_id');
    const query = parseQuery(StepListQuery, req.query as Record<string, unknown>);
    const afterCursor = parseCursor(query.cursor, decodeSeqCursor);
    if (!(await getRun(pool, tenantId, runId))) throw notFound('run');
    res.json(await listSteps(pool, tenantId, runId, query, Math.max(afterCursor ?? 0, query.after_seq ?? 0)));
  });

  router.get('/v1/runs/:runId/timeline', async (req, res) => {
    parseQuery(StepListQuery.pick({}), req.query as Record<string, unknown>);
    const timeline = await getTimeline(pool, principalOf(res).tenantId, parseId(req.params.runId, 'run_id'));
    if (!timeline) throw notFound('run');
    res.json(timeline);
  });

  return router;
}
