import { AuditListQuery, EmptyQuery } from '@agentrace/schemas';
import { decodeAuditCursor, listAudit, type Pool, verifyAuditChain, withTenant } from '@agentrace/store';
import { Router } from 'express';
import { principalOf } from '../auth.ts';
import { parseCursor, parseQuery } from '../parse-request.ts';

/** `GET /v1/audit` (newest first, cursor) and `GET /v1/audit:verify`, of the admin's own tenant. */
export function auditRouter(pool: Pool): Router {
  const router = Router();

  router.get('/v1/audit', async (req, res) => {
    const query = parseQuery(AuditListQuery, req.query as Record<string, unknown>);
    const beforeSeq = parseCursor(query.cursor, decodeAuditCursor);
    const { tenantId } = principalOf(res);
    res.json(await withTenant(pool, tenantId, (db) => listAudit(db, tenantId, query, beforeSeq)));
  });

  // The literal `:verify` is escaped: an unescaped ':' would start a path parameter.
  router.get('/v1/audit\\:verify', async (req, res) => {
    parseQuery(EmptyQuery, req.query as Record<string, unknown>);
    const { tenantId } = principalOf(res);
    res.json(await withTenant(pool, tenantId, (db) => verifyAuditChain(db, tenantId)));
  });

  return router;
}
