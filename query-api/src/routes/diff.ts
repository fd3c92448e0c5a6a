import { DiffQuery, notFound } from '@agentrace/schemas';
import { getRunWithSteps, type Pool } from '@agentrace/store';
import { Router } from 'express';
import { principalOf } from '../auth.ts';
import { diffRuns } from '../diff/diff-runs.ts';
import { parseQuery } from '../parse-request.ts';

/** `GET /v1/diff?runA=&runB=&normalize_profile=`. */
export function diffRouter(pool: Pool): Router {
  const router = Router();
  router.get('/v1/diff', async (req, res) => {
    const query = parseQuery(DiffQuery, req.query as Record<string, unknown>);
    const tenantId = principalOf(res).tenantId;
    const [a, b] = await Promise.all([
      getRunWithSteps(pool, tenantId, query.runA),
      getRunWithSteps(pool, tenantId, query.runB),
    ]);
    if (!a) throw notFound('runA');
    if (!b) throw notFound('runB');
    res.json(diffRuns(a, b, query.normalize_profile));
  });
  return router;
}
