import { CostQuery } from '@agentrace/schemas';
import { costReport, type Pool, withTenant } from '@agentrace/store';
import { Router } from 'express';
import { principalOf } from '../auth.ts';
import { parseQuery } from '../parse-request.ts';

/** `GET /v1/cost?group_by=agent|model|provider|project|day&since=&until=`. */
export function costRouter(pool: Pool): Router {
  const router = Router();
  router.get('/v1/cost', async (req, res) => {
    const { group_by, ...range } = parseQuery(CostQuery, req.query as Record<string, unknown>);
    const { tenantId } = principalOf(res);
    res.json({ data: await withTenant(pool, tenantId, (db) => costReport(db, tenantId, group_by, range)) });
  });
  return router;
}
