import { ArtifactStatsQuery, InvocationStatsQuery, notFound } from '@agentrace/schemas';
import { invocationStats, type Pool, withTenant } from '@agentrace/store';
import { Router } from 'express';
import { principalOf } from '../auth.ts';
import { parseQuery } from '../parse-request.ts';

/** `GET /v1/invocations/stats` and `GET /v1/artifacts/{artifact_id}/invocations`. */
export function statsRouter(pool: Pool): Router {
  const router = Router();

  router.get('/v1/invocations/stats', async (req, res) => {
    const { group_by, ...filters } = parseQuery(InvocationStatsQuery, req.query as Record<string, unknown>);
    const { tenantId } = principalOf(res);
    res.json({
      data: await withTenant(pool, tenantId, (db) => invocationStats(db, tenantId, group_by, filters)),
    });
  });

  router.get('/v1/artifacts/:artifactId/invocations', async (req, res) => {
    const filters = parseQuery(ArtifactStatsQuery, req.query as Record<string, unknown>);
    const { tenantId } = principalOf(res);
    const artifactId = req.params.artifactId!;
    const [row] = await withTenant(pool, tenantId, (db) =>
      invocationStats(db, tenantId, 'artifact', { ...filters, artifact_id: artifactId }),
    );
    if (!row) throw notFound('artifact');
    res.json(row);
  });

  return router;
}
