import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpError } from '@agentrace/schemas';
import type { RequestHandler } from 'express';
import type { Registry } from 'prom-client';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * `GET /metrics` in Prometheus' text format. Without a token anyone may scrape (the metrics are totals of
 * the whole server: no tenant, project or run appears in them); with one, only `Authorization: Bearer
 * <token>` (compared in constant time), else 401.
 * @example app.get('/metrics', metricsEndpoint(registry, process.env.AGENTRACE_METRICS_TOKEN))
 */
export function metricsEndpoint(registry: Registry, token?: string): RequestHandler {
  const expected = token === undefined ? null : digest(token);
  return async (req, res) => {
    if (expected) {
      const given = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
      if (given === undefined || !timingSafeEqual(digest(given), expected)) {
        throw new HttpError(
          'unauthenticated',
          'missing or wrong metrics token (Authorization: Bearer <token>)',
        );
      }
    }
    res.type(registry.contentType).send(await registry.metrics());
  };
}
