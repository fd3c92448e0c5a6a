import { describeAccess, ENDPOINTS, type Endpoint, HttpError, permits, routePathParts } from '@agentrace/schemas';
import type { Pool } from '@agentrace/store';
import type { NextFunction, Request, Response } from 'express';
import { requestPrincipal } from './request-principal.ts';

/**
 * A route path as express registers it (`:param`, `\:` for a literal colon) as a regular expression
 * matched the way express matches: whole path, case-insensitive, an optional trailing slash.
 */
function routePattern(path: string): RegExp {
  const source = routePathParts(path)
    .literals.map((literal) => literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]+?');
  return new RegExp(`^${source}/?$`, 'i');
}

const API_ENDPOINTS = ENDPOINTS.filter((e) => e.app === 'api').map((e) => ({
  endpoint: e,
  pattern: routePattern(e.path),
}));

/** The access table's entry for a request to the query API, if there is one. */
export function apiEndpointOf(method: string, path: string): Endpoint | undefined {
  const asMethod = method === 'HEAD' ? 'GET' : method;
  return API_ENDPOINTS.find((e) => e.endpoint.method === asMethod && e.pattern.test(path))?.endpoint;
}

/**
 * The one access check of the query API, ahead of every route: finds the request's endpoint in the
 * access table (none: 404, so a route without an entry is unreachable), authenticates the key (401) and
 * checks its kind and role against the entry (403). The principal goes to `res.locals` for the routes.
 */
export function accessControl(pool: Pool) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const endpoint = apiEndpointOf(req.method, req.path);
    if (!endpoint) throw new HttpError('not_found', 'no such endpoint');
    // The route template for request logs and metrics, also when the request stops here (401, 403).
    res.locals.route = endpoint.path;
    if (endpoint.access !== 'public') {
      const principal = await requestPrincipal(pool, req);
      if (!principal) {
        throw new HttpError(
          'unauthenticated',
          'missing, invalid, expired or revoked key (Authorization: Bearer <key>)',
        );
      }
      if (!permits(endpoint.access, principal)) {
        const path = endpoint.path.replace(/\\:/g, ':');
        throw new HttpError(
          'permission_denied',
          `${endpoint.method} ${path} needs ${describeAccess(endpoint.access)}`,
        );
      }
      res.locals.principal = principal;
    }
    next();
  };
}
