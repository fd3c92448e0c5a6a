import { UNAVAILABLE_RETRY_AFTER_SECONDS } from '@agentrace/schemas';
import { authenticateBearer, type DbHealth, isDatabaseUnavailable, type Pool } from '@agentrace/store';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { QueueFullError } from '../ingest-queue.ts';
import type { IngestService } from '../ingest-service.ts';
import { ThrottledError } from '../ingest-throttle.ts';
import type { ReceiverMetrics } from '../metrics.ts';
import type { RequestTelemetry } from '../ops/request-telemetry.ts';
import { UndecodableError } from '../otlp/decoded.ts';
import { ExportTraceServiceResponseType } from '../otlp/otlp-proto.ts';
import { unavailableWithRetryInfo } from './retry-info.ts';

export interface OtlpGrpcDeps {
  pool: Pool;
  health: DbHealth;
  ingest: IngestService;
  metrics: ReceiverMetrics;
  logger: Logger;
  maxBodyBytes: number;
  /** Request ids, one log line and latency per call; none: neither. */
  telemetry?: RequestTelemetry;
}

interface ExportResponse {
  partialSuccess?: { rejectedSpans: number; errorMessage: string };
}

// Messages stay raw bytes through grpc-js so that decoding (and its errors) is ours, as on HTTP.
const TRACE_SERVICE: grpc.ServiceDefinition = {
  export: {
    path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
    requestStream: false,
    responseStream: false,
    requestSerialize: (bytes: Buffer) => bytes,
    requestDeserialize: (bytes: Buffer) => bytes,
    responseSerialize: (response: ExportResponse) =>
      Buffer.from(ExportTraceServiceResponseType.encode(ExportTraceServiceResponseType.fromObject(response)).finish()),
    responseDeserialize: (bytes: Buffer) => ExportTraceServiceResponseType.decode(bytes),
  },
};

const fail = (code: grpc.status, details: string): Partial<grpc.StatusObject> => ({ code, details });

/**
 * OTLP/gRPC `TraceService/Export` (port 4317): the same decode, normalize and commit path as HTTP, the
 * key from the `authorization` metadata, gzip, and the size limit (RESOURCE_EXHAUSTED, from grpc-js,
 * counted after decompression). Only builds the server; `bindAsync` it to serve.
 */
export function createOtlpGrpcServer(deps: OtlpGrpcDeps): grpc.Server {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': deps.maxBodyBytes,
  });
  server.addService(TRACE_SERVICE, {
    export: (call: grpc.ServerUnaryCall<Buffer, ExportResponse>, callback: grpc.sendUnaryData<ExportResponse>) => {
      const observed = deps.telemetry?.grpc(TRACE_SERVICE.export!.path, call);
      void handleExport(deps, call).then(
        (response) => {
          callback(null, response);
          observed?.finish(grpc.status.OK);
        },
        (status: Partial<grpc.StatusObject>) => {
          callback(status);
          observed?.finish(status.code ?? grpc.status.UNKNOWN);
        },
      );
    },
  });
  return server;
}

/** UNAVAILABLE with a RetryInfo: the exporter backs off and resends, nothing is lost. */
const unavailable = (message: string) => unavailableWithRetryInfo(message, UNAVAILABLE_RETRY_AFTER_SECONDS);

async function handleExport(deps: OtlpGrpcDeps, call: grpc.ServerUnaryCall<Buffer, ExportResponse>): Promise<ExportResponse> {
  // With the database down nothing can be authenticated or stored: say so now rather than wait on it.
  if (!deps.health.up) {
    deps.metrics.requestsRefused.inc({ reason: 'unavailable' });
    throw unavailable(`database unavailable: ${deps.health.problem}; retry later`);
  }
  const header = call.metadata.get('authorization')[0];
  let principal: Awaited<ReturnType<typeof authenticateBearer>>;
  try {
    principal = await authenticateBearer(deps.pool, typeof header === 'string' ? header : header?.toString());
  } catch (err) {
    if (!isDatabaseUnavailable(err)) throw fail(grpc.status.INTERNAL, 'internal error');
    deps.health.reportFailure(err);
    deps.metrics.requestsRefused.inc({ reason: 'unavailable' });
    throw unavailable('database unavailable; retry later');
  }
  if (!principal) {
    deps.metrics.requestsRefused.inc({ reason: 'unauthenticated' });
    throw fail(grpc.status.UNAUTHENTICATED, 'missing or invalid ingest key (metadata authorization: Bearer <key>)');
  }
  if (principal.kind !== 'ingest') {
    deps.metrics.requestsRefused.inc({ reason: 'permission_denied' });
    throw fail(grpc.status.PERMISSION_DENIED, 'this key cannot ingest: use an ingest key');
  }
  try {
    const result = await deps.ingest.ingest(principal, call.request, 'protobuf');
    return result.rejected > 0 ? { partialSuccess: { rejectedSpans: result.rejected, errorMessage: result.errorMessage } } : {};
  } catch (err) {
    if (err instanceof UndecodableError) {
      deps.metrics.requestsRefused.inc({ reason: 'undecodable' });
      throw fail(grpc.status.INVALID_ARGUMENT, err.message);
    }
    // UNAVAILABLE is the retryable code: exporters back off and resend, nothing is lost.
    if (err instanceof ThrottledError) {
      deps.metrics.requestsRefused.inc({ reason: 'throttled' });
      throw unavailableWithRetryInfo(err.message, err.retryAfterSeconds);
    }
    if (err instanceof QueueFullError) {
      deps.metrics.requestsRefused.inc({ reason: 'overloaded' });
      throw unavailable(err.message);
    }
    deps.logger.error({ err }, 'ingest write failed');
    deps.metrics.requestsRefused.inc({ reason: 'write_failed' });
    throw unavailable('spans could not be stored; retry later');
  }
}

/** Binds and starts the server on host:port (0 picks a port); resolves with the bound port. */
export function listenGrpc(server: grpc.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
  });
}

/** Stops accepting calls and resolves once the in-flight ones have finished. */
export function closeGrpc(server: grpc.Server): Promise<void> {
  return new Promise((resolve) => server.tryShutdown(() => resolve()));
}
