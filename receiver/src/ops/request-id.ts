import { randomUUID } from 'node:crypto';

// What a proxy or client typically sends (UUIDs, hex, base64url, dotted trace ids), short enough to log.
const SANE_REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * The request id to use for a request: the caller's `X-Request-Id` when it is sane (so that a proxy's id
 * ties its logs to ours), else a fresh UUID. Anything else a client sends is never echoed into logs.
 * @example requestIdOf(req.headers['x-request-id']) // 'c0ffee-42' or a new UUID
 */
export function requestIdOf(incoming: string | string[] | Buffer | undefined): string {
  const value = Array.isArray(incoming) ? incoming[0] : incoming?.toString();
  return value !== undefined && SANE_REQUEST_ID.test(value) ? value : randomUUID();
}
