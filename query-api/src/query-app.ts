import { errorHandler, HttpError } from '@agentrace/schemas';
import { type BucketLimits, DbHealth, isDatabaseUnavailable, type Pool } from '@agentrace/store';
import express, { type RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { accessControl } from './access-control.ts';
import type { BackupService } from './backup/backup-service.ts';
import { rateLimit } from './rate-limit.ts';
import { adminRouter } from './routes/admin.ts';
import { auditRouter } from './routes/audit.ts';
import { backupsRouter } from './routes/backups.ts';
import { costRouter } from './routes/cost.ts';
import { diffRouter } from './routes/diff.ts';
import { exportRouter } from './routes/export.ts';
import { type GovernanceOptions, governanceRouter } from './routes/governance.ts';
import { invocationsRouter } from './routes/invocations.ts';
import { openApiRouter } from './routes/openapi.ts';
import { runsRouter } from './routes/runs.ts';
import { statsRouter } from './routes/stats.ts';
import { streamRouter } from './routes/stream.ts';
import type { SseClientOptions } from './stream/sse-client.ts';
import { StreamHub } from './stream/stream-hub.ts';
import { StreamMetrics } from './stream/stream-metrics.ts';
import { TimelineCache } from './timeline-cache.ts';

export interface QueryAppDeps {
  pool: Pool;
  logger: Logger;
  /** Requests per second and burst per key (per address without a key); without it, no limit. */
  rateLimit?: BucketLimits;
  /** The server's database health (`/readyz` checks through it); without it, one of its own. */
  health?: DbHealth;
  /** First in the app: request ids, one log line and latency per request (`RequestTelemetry.http`). */
  telemetry?: RequestHandler;
  /** `GET /metrics` (the receiver's `metricsEndpoint`); without it, the route answers 404. */
  metricsEndpoint?: RequestHandler;
  /** Memory for rendered timelines of unchanged runs (`TimelineCache`); 64 MiB when not given, 0 turns it off. */
  timelineCacheBytes?: number;
  /** Token and approval lifetimes; defaults: 5 minutes and 24 hours. */
  governance?: GovernanceOptions;
  /**
   * The live stream: the process's hub (close it before the server, it ends the open streams), heartbeat
   * interval (default 15 s) and per-client buffer limit (default 1 MiB). Without a hub, one of the app's
   * own, which connects at the first subscriber.
   */
  stream?: Partial<SseClientOptions> & { hub?: StreamHub };
  /** The process's one metrics registry; the app's metrics (live stream) register in it when given. */
  registry?: Registry;
  /** Takes backups (`POST /v1/admin/backups`); without it, backups are not configured (409). */
  backups?: BackupService;
}

/**
 * The query API (port 8080). Only builds the app.
 * @example createQueryApp({ pool, logger }).listen(8080)
 */
export function createQueryApp(deps: QueryAppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  const health = deps.health ?? new DbHealth(deps.pool);
  if (deps.telemetry) app.use(deps.telemetry);
  // No body-hash ETags: nothing here is cached by validators, and hashing a megabyte timeline costs more than sending it.
  app.disable('etag');
  // First, so that every answer (health, 401, 404, errors) carries the X-RateLimit-* headers.
  if (deps.rateLimit) app.use(rateLimit(deps.pool, deps.rateLimit));
  // Every request, before any route: the endpoint's entry in the access table, the key, its role.
  app.use(accessControl(deps.pool));
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    await health.check();
    health.assertUp();
    res.json({ status: 'ready' });
  });
  if (deps.metricsEndpoint) app.get('/metrics', deps.metricsEndpoint);
  app.use(openApiRouter());
  app.use(runsRouter(deps.pool, new TimelineCache(deps.timelineCacheBytes ?? 64 * 1024 * 1024)));
  app.use(invocationsRouter(deps.pool));
  app.use(diffRouter(deps.pool));
  app.use(statsRouter(deps.pool));
  app.use(costRouter(deps.pool));
  app.use(exportRouter(deps.pool));
  app.use(adminRouter(deps.pool));
  app.use(auditRouter(deps.pool));
  app.use(backupsRouter(deps.pool, deps.backups ?? null));
  app.use(governanceRouter(deps.pool, deps.governance));
  app.use(
    streamRouter(
      deps.pool,
      deps.stream?.hub ?? new StreamHub(deps.pool, {}, deps.logger),
      { heartbeatMs: deps.stream?.heartbeatMs ?? 15_000, maxBufferBytes: deps.stream?.maxBufferBytes ?? 1024 * 1024 },
      deps.registry ? new StreamMetrics(deps.registry) : null,
    ),
  );
  app.use(() => {
    throw new HttpError('not_found', 'no such endpoint');
  });
  app.use(errorHandler(deps.logger, { isUnavailable: isDatabaseUnavailable }));
  return app;
}
