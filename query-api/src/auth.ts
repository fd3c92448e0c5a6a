import { HttpError } from '@agentrace/schemas';
import { authenticateBearer, type Pool, type Principal } from '@agentrace/store';
import type { NextFunction, Request, Response } from 'express';

export type UserPrincipal = Extract<Principal, { kind: 'user' }>;

/** Requires a live user key; the tenant of every query comes from it, never from the request. */
export function requireUserKey(pool: Pool) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const principal = await authenticateBearer(pool, req.headers.authorization);
    if (!principal) throw new HttpError('unauthenticated', 'missing or invalid key (Authorization: Bearer <key>)');
    if (principal.kind !== 'user') throw new HttpError('permission_denied', 'ingest keys can only ingest');
    res.locals.principal = principal;
    next();
  };
}

/** The authenticated principal of this request (set by requireUserKey). */
export const principalOf = (res: Response): UserPrincipal => res.locals.principal as UserPrincipal;
