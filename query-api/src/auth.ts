import type { Principal } from '@agentrace/store';
import type { Response } from 'express';

/**
 * The authenticated principal of this request, set by `accessControl` on every endpoint that needs a
 * key. Only `POST /v1/decisions` admits ingest keys; every other keyed endpoint has a user principal.
 */
export const principalOf = (res: Response): Principal => res.locals.principal as Principal;
