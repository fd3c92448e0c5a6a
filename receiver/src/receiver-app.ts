import { errorHandler, HttpError } from '@agentrace/schemas';
import { type DbHealth, isDatabaseUnavailable, type Pool } from '@agentrace/store';
import express from 'express';
import type { Logger } from 'pino';
import { otlpHttpRouter } from './http/otlp-http.ts';
import type { IngestService } from './ingest-service.ts';
import type { ReceiverMetrics } from './metrics.ts';
import { metricsEndpoint } from './ops/metrics-endpoint.ts';
import type { RequestTelemetry } from './ops/request-telemetry.ts';
import { nativeRestRouter } from './rest/native-rest-router.ts';

export interface ReceiverAppDeps {
  pool: Pool;
  /** Whether the database answers: ingest is refused at once (503) while it does not. */
  health: DbHealth;
  ingest: IngestService;
  metrics: ReceiverMetrics;
  logger: Logger;
  maxBodyBytes: number;
  /** Request ids, one log line and latency per request; none: neither. */
  telemetry?: RequestTelemetry;
  /** When set, `/metrics` wants it as a bearer token. */
  metricsToken?: string;
}

/**
 * The receiver's HTTP app (port 4318): OTLP/HTTP and native REST ingest, health and metrics. Only builds it.
 * @example createReceiverApp(deps).listen(4318)
 */
export function createReceiverApp(deps: ReceiverAppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  if (deps.telemetry) app.use(deps.telemetry.http('receiver'));
  app.use(otlpHttpRouter(deps));
  app.use(nativeRestRouter(deps));
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    await deps.health.check();
    deps.health.assertUp();
    res.json({ status: 'ready' });
  });
  app.get('/metrics', metricsEndpoint(deps.metrics.registry, deps.metricsToken));
  app.use(() => {
    throw new HttpError('not_found', 'no such endpoint');
  });
  app.use(errorHandler(deps.logger, { isUnavailable: isDatabaseUnavailable }));
  return app;
}
