import { HttpError } from '@agentrace/schemas';
import { authenticateBearer, type DbHealth, type Pool } from '@agentrace/store';
import type { NextFunction, Request, Response } from 'express';
import type { IngestPrincipal } from '../ingest-service.ts';
import type { ReceiverMetrics } from '../metrics.ts';

/**
 * Requires a live ingest key (a user key is 403); the tenant and project come from it, never the body.
 * While the database is down it refuses at once (503, retryable) instead of waiting on it.
 */
export function requireIngestKey(deps: { pool: Pool; health: DbHealth; metrics: ReceiverMetrics }) {
  return async (req: Request, res: Response, next: NextFunction) => {
    if (!deps.health.up) {
      deps.metrics.requestsRefused.inc({ reason: 'unavailable' });
      deps.health.assertUp();
    }
    const principal = await authenticateBearer(deps.pool, req.headers.authorization);
    if (!principal) throw new HttpError('unauthenticated', 'missing or invalid ingest key (Authorization: Bearer <key>)');
    if (principal.kind !== 'ingest') throw new HttpError('permission_denied', 'this key cannot ingest: use an ingest key');
    res.locals.principal = principal;
    next();
  };
}

/** The ingest principal of this request (set by requireIngestKey). */
export const ingestPrincipalOf = (res: Response): IngestPrincipal => res.locals.principal as IngestPrincipal;
