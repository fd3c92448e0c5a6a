import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createQueryApp } from '@agentrace/query-api';
import {
  closeGrpc,
  createIngestService,
  createOtlpGrpcServer,
  createReceiverApp,
  IngestQueue,
  IngestThrottle,
  listenGrpc,
  loadRedactionRules,
  Pricing,
  ReceiverMetrics,
} from '@agentrace/receiver';
import { bootstrapDefaultTenant, type NewTenant, writeSteps } from '@agentrace/store';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { openDatabase } from './database.ts';
import { startRetentionJob } from './retention-job.ts';

export interface RunningServer {
  ports: { otlpHttp: number; otlpGrpc: number; api: number };
  /** The default tenant's keys when this start created them (printed once), else null. */
  bootstrapped: NewTenant | null;
  /** The HTTP apps, for what they tell about themselves (their registered routes). */
  apps: { api: ReturnType<typeof createQueryApp>; receiver: ReturnType<typeof createReceiverApp> };
  close(): Promise<void>;
}

function listen(app: { listen: (port: number, host: string) => Server }, port: number, host: string): Promise<Server> {
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

/**
 * `agentrace serve`: the database, the receiver and the query API in one process.
 * @example const s = await startServer(config, logger); ...; await s.close();
 */
export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  // Before the database starts: a bad redaction file stops the start with nothing to clean up.
  const redaction = loadRedactionRules(config.redactionFile);
  const db = await openDatabase(config, logger);
  const bootstrapped = await bootstrapDefaultTenant(db.pool, { adminKey: config.adminKey, ingestKey: config.ingestKey });
  const metrics = new ReceiverMetrics();
  const queue = new IngestQueue(
    (records) => writeSteps(db.pool, records),
    { maxQueuedSpans: config.ingestQueueSpans, maxBatchSpans: config.ingestBatchSpans, writers: config.ingestWriters },
    metrics,
  );
  const ingest = createIngestService({
    pool: db.pool,
    queue,
    pricing: Pricing.load(config.pricingFile),
    redaction,
    metrics,
    throttle: new IngestThrottle(config.ingestSpansPerS),
  });
  const receiverApp = createReceiverApp({ pool: db.pool, ingest, metrics, logger, maxBodyBytes: config.maxBodyBytes });
  const receiver = await listen(receiverApp, config.otlpHttpPort, config.host);
  const grpcServer = createOtlpGrpcServer({ pool: db.pool, ingest, metrics, logger, maxBodyBytes: config.maxBodyBytes });
  const otlpGrpc = await listenGrpc(grpcServer, config.host, config.otlpGrpcPort);
  const queryApp = createQueryApp({
    pool: db.pool,
    logger,
    rateLimit: { rate: config.rateLimitRps, burst: config.rateLimitBurst },
    governance: { approvalTtlSeconds: config.approvalTtlS, tokenTtlSeconds: config.decisionTokenTtlS },
  });
  const api = await listen(queryApp, config.apiPort, config.host);
  const retention = startRetentionJob({
    pool: db.pool,
    intervalS: config.retentionIntervalS,
    auditRetentionDays: config.auditRetentionDays,
    logger,
  });
  const ports = {
    otlpHttp: (receiver.address() as AddressInfo).port,
    otlpGrpc,
    api: (api.address() as AddressInfo).port,
  };
  logger.info({ host: config.host, ...ports }, 'agentrace listening');
  return {
    ports,
    bootstrapped,
    apps: { api: queryApp, receiver: receiverApp },
    async close() {
      await Promise.all([closeServer(receiver), closeServer(api), closeGrpc(grpcServer), retention.stop()]);
      await queue.drain();
      await db.close();
    },
  };
}
