import { authenticateBearer, type Pool, type Principal } from '@agentrace/store';
import type { Request } from 'express';

const resolved = new WeakMap<Request, Promise<Principal | null>>();

/**
 * The principal of the request's bearer key, or null; looked up once per request however many
 * middlewares ask (the rate limiter keys on it, auth then checks it).
 */
export function requestPrincipal(pool: Pool, req: Request): Promise<Principal | null> {
  let principal = resolved.get(req);
  if (!principal) {
    principal = authenticateBearer(pool, req.headers.authorization);
    resolved.set(req, principal);
  }
  return principal;
}
