import { errorHandler, HttpError } from '@agentrace/schemas';
import type { Pool } from '@agentrace/store';
import express from 'express';
import type { Logger } from 'pino';
import { otlpHttpRouter } from './http/otlp-http.ts';
import type { IngestService } from './ingest-service.ts';
import type { ReceiverMetrics } from './metrics.ts';
import { nativeRestRouter } from './rest/native-rest-router.ts';

export interface ReceiverAppDeps {
  pool: Pool;
  ingest: IngestService;
  metrics: ReceiverMetrics;
  logger: Logger;
  maxBodyBytes: number;
}

/**
 * The receiver's HTTP app (port 4318): OTLP/HTTP and native REST ingest, health and metrics. Only builds it.
 * @example createReceiverApp(deps).listen(4318)
 */
export function createReceiverApp(deps: ReceiverAppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(otlpHttpRouter(deps));
  app.use(nativeRestRouter(deps));
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    try {
      await deps.pool.query('SELECT 1');
      res.json({ status: 'ready' });
    } catch {
      res.status(503).json({ status: 'unavailable' });
    }
  });
  app.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  app.use(() => {
    throw new HttpError('not_found', 'no such endpoint');
  });
  app.use(errorHandler(deps.logger));
  return app;
}
