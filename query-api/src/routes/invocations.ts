import { InvocationListQuery } from '@agentrace/schemas';
import { decodeTimeCursor, listInvocations, type Pool, withTenant } from '@agentrace/store';
import { Router } from 'express';
import { principalOf } from '../auth.ts';
import { parseCursor, parseQuery } from '../parse-request.ts';

/** `GET /v1/invocations`. */
export function invocationsRouter(pool: Pool): Router {
  const router = Router();
  router.get('/v1/invocations', async (req, res) => {
    const query = parseQuery(InvocationListQuery, req.query as Record<string, unknown>);
    const after = parseCursor(query.cursor, decodeTimeCursor);
    const { tenantId } = principalOf(res);
    res.json(await withTenant(pool, tenantId, (db) => listInvocations(db, tenantId, query, after)));
  });
  return router;
}
