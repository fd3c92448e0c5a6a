import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BackupBucket, BackupMetrics, BackupService, createQueryApp, StreamHub } from '@agentrace/query-api';
import {
  closeGrpc,
  createIngestService,
  createOtlpGrpcServer,
  createReceiverApp,
  IngestQueue,
  IngestThrottle,
  listenGrpc,
  loadRedactionRules,
  metricsEndpoint,
  NormalizerPool,
  Pricing,
  ReceiverMetrics,
  Registry,
  RequestTelemetry,
  registerServerMetrics,
} from '@agentrace/receiver';
import { bootstrapDefaultTenant, DbHealth, type NewTenant, type Pool, writeSteps } from '@agentrace/store';
import type { Logger } from 'pino';
import { bucketSettingsOf } from './backup.ts';
import { scheduleIntervalMs, startBackupSchedule } from './backup-schedule.ts';
import type { Config } from './config.ts';
import { openDatabase } from './database.ts';
import { startRetentionJob } from './retention-job.ts';
import { startStreamPruning } from './stream-pruning.ts';

/** What `agentrace serve` runs: everything (the default), only the receivers, or only the query API. */
export type ServeMode = 'all' | 'receiver' | 'api';
export const SERVE_MODES: readonly ServeMode[] = ['all', 'receiver', 'api'];

export interface RunningServer {
  /** The bound ports; null for the listeners this mode does not run. */
  ports: { otlpHttp: number | null; otlpGrpc: number | null; api: number | null };
  /** The default tenant's keys when this start created them (printed once), else null. */
  bootstrapped: NewTenant | null;
  /** The HTTP apps, for what they tell about themselves (their registered routes); null when not run. */
  apps: {
    api: ReturnType<typeof createQueryApp> | null;
    receiver: ReturnType<typeof createReceiverApp> | null;
  };
  /** The one metrics registry of the process: everything with metrics registers here. */
  registry: Registry;
  close(): Promise<void>;
}

function listen(
  app: { listen: (port: number, host: string) => Server },
  port: number,
  host: string,
): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once('listening', () => resolve(server));
    server.once('error', reject);
  });
}

const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });

const portOf = (server: Server) => (server.address() as AddressInfo).port;

/** What both parts share: one database pool, its health, one registry, one request telemetry. */
interface Shared {
  config: Config;
  logger: Logger;
  pool: Pool;
  health: DbHealth;
  registry: Registry;
  telemetry: RequestTelemetry;
}

/** OTLP/HTTP, OTLP/gRPC and native REST ingest, in front of the batch writer's queue. */
async function startReceiver(s: Shared, redaction: ReturnType<typeof loadRedactionRules>) {
  const { config, logger, pool, health, telemetry } = s;
  const metrics = new ReceiverMetrics(s.registry);
  const queue = new IngestQueue(
    // A write that fails because the database is gone flips readiness at once: the next requests are
    // refused without waiting on it.
    (records) =>
      writeSteps(pool, records).catch((err: unknown) => {
        health.reportFailure(err);
        throw err;
      }),
    {
      maxQueuedSpans: config.ingestQueueSpans,
      maxBatchSpans: config.ingestBatchSpans,
      writers: config.ingestWriters,
    },
    metrics,
  );
  const normalizer = new NormalizerPool({
    threads: config.ingestThreads,
    // As much as the writer's queue holds, give or take: beyond it the receiver answers 503.
    maxPendingBytes: 4 * config.maxBodyBytes,
    pricingFile: config.pricingFile,
    redaction,
  });
  await normalizer.ready();
  const ingest = createIngestService({
    pool,
    queue,
    normalizer,
    pricing: Pricing.load(config.pricingFile),
    redaction,
    metrics,
    throttle: new IngestThrottle(config.ingestSpansPerS),
  });
  const deps = { pool, health, ingest, metrics, logger, telemetry, maxBodyBytes: config.maxBodyBytes };
  const app = createReceiverApp({ ...deps, metricsToken: config.metricsToken });
  const http = await listen(app, config.otlpHttpPort, config.host);
  const grpcServer = createOtlpGrpcServer(deps);
  const grpcPort = await listenGrpc(grpcServer, config.host, config.otlpGrpcPort);
  return {
    app,
    ports: { otlpHttp: portOf(http), otlpGrpc: grpcPort },
    async close() {
      await Promise.all([closeServer(http), closeGrpc(grpcServer)]);
      await queue.drain();
      await normalizer.close();
    },
  };
}

/**
 * Backups when a bucket is configured: the service behind `POST /v1/admin/backups`, and the schedule.
 * Null when none is.
 */
function startBackups(s: Shared) {
  const settings = bucketSettingsOf(s.config);
  if (!settings) return null;
  const bucket = new BackupBucket(settings);
  const service = new BackupService({
    pool: s.pool,
    bucket,
    logger: s.logger,
    metrics: new BackupMetrics(s.registry),
  });
  const intervalMs = scheduleIntervalMs(s.config.backupSchedule);
  const schedule = intervalMs === null ? null : startBackupSchedule({ service, intervalMs, logger: s.logger });
  return {
    service,
    async close() {
      schedule?.stop();
      await service.close();
      bucket.destroy();
    },
  };
}

/**
 * The query API with its live stream, the retention passes, the stream's pruning and the backups
 * (maintenance belongs with the API, not with every receiver).
 */
async function startApi(s: Shared) {
  const { config, logger, pool } = s;
  const backups = startBackups(s);
  const hub = new StreamHub(pool, {}, logger);
  const app = createQueryApp({
    pool,
    logger,
    health: s.health,
    telemetry: s.telemetry.http('api'),
    metricsEndpoint: metricsEndpoint(s.registry, config.metricsToken),
    rateLimit: { rate: config.rateLimitRps, burst: config.rateLimitBurst },
    timelineCacheBytes: config.timelineCacheMb * 1024 * 1024,
    governance: { approvalTtlSeconds: config.approvalTtlS, tokenTtlSeconds: config.decisionTokenTtlS },
    stream: {
      hub,
      heartbeatMs: config.streamHeartbeatS * 1000,
      maxBufferBytes: config.streamClientBufferKb * 1024,
    },
    registry: s.registry,
    backups: backups?.service,
  });
  const http = await listen(app, config.apiPort, config.host);
  const retention = startRetentionJob({
    pool,
    intervalS: config.retentionIntervalS,
    auditRetentionDays: config.auditRetentionDays,
    logger,
  });
  const pruning = startStreamPruning({ pool, retentionS: config.streamRetentionS, logger });
  return {
    app,
    port: portOf(http),
    async close() {
      // The hub first: it ends the open streams, which the server would otherwise wait for.
      await hub.close();
      await Promise.all([closeServer(http), retention.stop(), pruning.stop(), backups?.close()]);
    },
  };
}

/**
 * `agentrace serve [receiver|api]`: the database, and the receivers and the query API in one process
 * (`all`), or one side only, to scale them apart on the same database.
 * @example const s = await startServer(config, logger); ...; await s.close();
 */
export async function startServer(
  config: Config,
  logger: Logger,
  mode: ServeMode = 'all',
): Promise<RunningServer> {
  // Before the database starts: a bad redaction file stops the start with nothing to clean up.
  const redaction = mode === 'api' ? null : loadRedactionRules(config.redactionFile);
  const db = await openDatabase(config, logger);
  const bootstrapped = await bootstrapDefaultTenant(db.pool, {
    adminKey: config.adminKey,
    ingestKey: config.ingestKey,
  });
  const health = new DbHealth(db.pool, { intervalMs: config.dbCheckIntervalMs }, (problem) => {
    if (problem) logger.error({ problem }, 'database unavailable: ingest answers 503 until it is back');
    else logger.info('database available again');
  });
  health.start();
  const registry = new Registry();
  registerServerMetrics(registry, { pool: db.pool, health });
  const shared: Shared = {
    config,
    logger,
    pool: db.pool,
    health,
    registry,
    telemetry: new RequestTelemetry(registry, logger),
  };
  const receiver = redaction ? await startReceiver(shared, redaction) : null;
  const api = mode === 'receiver' ? null : await startApi(shared);
  const ports = {
    otlpHttp: receiver?.ports.otlpHttp ?? null,
    otlpGrpc: receiver?.ports.otlpGrpc ?? null,
    api: api?.port ?? null,
  };
  logger.info({ host: config.host, mode, ...ports }, 'agentrace listening');
  return {
    ports,
    bootstrapped,
    apps: { api: api?.app ?? null, receiver: receiver?.app ?? null },
    registry,
    async close() {
      // Listeners first (in-flight requests finish), then what they wrote, then the database.
      await Promise.all([receiver?.close(), api?.close()]);
      health.stop();
      await db.close();
    },
  };
}
