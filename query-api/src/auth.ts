import type { Principal } from '@agentrace/store';
import type { Response } from 'express';

/**
 * The authenticated principal of this request, set by `accessControl` on every endpoint that needs a
 * key. Only the policy gate's endpoints (`POST /v1/decisions`, `GET /v1/approvals/{id}`, the public key)
 * admit ingest keys; every other keyed endpoint has a user principal.
 */
export const principalOf = (res: Response): Principal => res.locals.principal as Principal;
