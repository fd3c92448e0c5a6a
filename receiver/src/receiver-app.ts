import type { Pool } from '@agentrace/store';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { otlpHttpRouter } from './http/otlp-http.ts';
import type { IngestService } from './ingest-service.ts';
import type { ReceiverMetrics } from './metrics.ts';

export interface ReceiverAppDeps {
  pool: Pool;
  ingest: IngestService;
  metrics: ReceiverMetrics;
  logger: Logger;
  maxBodyBytes: number;
}

/**
 * The receiver's HTTP app (port 4318): OTLP/HTTP ingest, health and metrics. Only builds it.
 * @example createReceiverApp(deps).listen(4318)
 */
export function createReceiverApp(deps: ReceiverAppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(otlpHttpRouter(deps));
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
  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'not_found', message: 'no such endpoint', retryable: false } });
  });
  app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
    deps.logger.error({ err }, 'receiver request failed');
    res.status(500).json({ error: { code: 'internal', message: 'internal error', retryable: true } });
  });
  return app;
}
