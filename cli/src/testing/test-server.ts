import { createTestDatabase, type TestDatabase } from '@agentrace/store/testing';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { parseConfig } from '../config.ts';
import { type RunningServer, startServer } from '../serve.ts';

export interface TestServer {
  db: TestDatabase;
  server: RunningServer;
  adminKey: string;
  ingestKey: string;
  tenantId: string;
  projectId: string;
  otlpUrl: string;
  /** host:port of the OTLP/gRPC receiver. */
  otlpGrpcAddress: string;
  apiUrl: string;
  /** GET (or another method) on the query API with the admin key; parses the JSON body. */
  api<T = unknown>(
    path: string,
    init?: RequestInit & { key?: string },
  ): Promise<{ status: number; body: T; headers: Headers }>;
  close(): Promise<void>;
}

/** The whole server (receiver and query API) on loopback port 0, on a fresh database; silent by default. */
export async function startTestServer(
  env: Record<string, string> = {},
  logger: Logger = pino({ level: 'silent' }),
): Promise<TestServer> {
  return serve(await createTestDatabase(), env, null, logger);
}

/**
 * A new server on the database, ports and keys of `previous`, once `previous.server.close()` has stopped
 * it: a restart, as clients see one. Closing the new one drops the database.
 */
export async function restartTestServer(
  previous: TestServer,
  env: Record<string, string> = {},
): Promise<TestServer> {
  const { otlpHttp, otlpGrpc, api } = previous.server.ports;
  const ports = {
    AGENTRACE_OTLP_HTTP_PORT: String(otlpHttp),
    AGENTRACE_OTLP_GRPC_PORT: String(otlpGrpc),
    AGENTRACE_API_PORT: String(api),
  };
  return serve(previous.db, { ...ports, ...env }, previous, pino({ level: 'silent' }));
}

async function serve(
  db: TestDatabase,
  env: Record<string, string>,
  previous: TestServer | null,
  logger: Logger,
): Promise<TestServer> {
  const { config } = parseConfig([], {
    DATABASE_URL: db.url,
    AGENTRACE_OTLP_HTTP_PORT: '0',
    AGENTRACE_API_PORT: '0',
    AGENTRACE_OTLP_GRPC_PORT: '0',
    AGENTRACE_LOG_LEVEL: 'silent',
    ...env,
  });
  const server = await startServer(config, logger);
  const created = server.bootstrapped;
  const keys = previous ?? {
    adminKey: created!.adminKey.key,
    ingestKey: created!.ingestKey.key,
    tenantId: created!.tenantId,
    projectId: created!.projectId,
  };
  const apiUrl = `http://127.0.0.1:${server.ports.api}`;
  return {
    db,
    server,
    adminKey: keys.adminKey,
    ingestKey: keys.ingestKey,
    tenantId: keys.tenantId,
    projectId: keys.projectId,
    otlpUrl: `http://127.0.0.1:${server.ports.otlpHttp}`,
    otlpGrpcAddress: `127.0.0.1:${server.ports.otlpGrpc}`,
    apiUrl,
    async api<T>(path: string, init: RequestInit & { key?: string } = {}) {
      const res = await fetch(apiUrl + path, {
        ...init,
        headers: { authorization: `Bearer ${init.key ?? keys.adminKey}`, ...(init.headers ?? {}) },
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : null) as T, headers: res.headers };
    },
    async close() {
      await server.close();
      await db.drop();
    },
  };
}
