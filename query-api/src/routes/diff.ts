import { DiffQuery, notFound } from '@agentrace/schemas';
import { getRunWithSteps, type Pool, withTenant } from '@agentrace/store';
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
    // Two transactions, so that both runs load at once.
    const load = (runId: string) => withTenant(pool, tenantId, (db) => getRunWithSteps(db, tenantId, runId));
    const [a, b] = await Promise.all([load(query.runA), load(query.runB)]);
    if (!a) throw notFound('runA');
    if (!b) throw notFound('runB');
    res.json(diffRuns(a, b, query.normalize_profile));
  });
  return router;
}
