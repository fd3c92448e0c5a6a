import * as grpc from '@grpc/grpc-js';
import { authenticateBearer, type Pool } from '@agentrace/store';
import type { Logger } from 'pino';
import { QueueFullError } from '../ingest-queue.ts';
import type { IngestService } from '../ingest-service.ts';
import { ThrottledError } from '../ingest-throttle.ts';
import type { ReceiverMetrics } from '../metrics.ts';
import { decodeProtobuf } from '../otlp/decode-protobuf.ts';
import { UndecodableError } from '../otlp/decoded.ts';
import { ExportTraceServiceResponseType } from '../otlp/otlp-proto.ts';
import { unavailableWithRetryInfo } from './retry-info.ts';

export interface OtlpGrpcDeps {
  pool: Pool;
  ingest: IngestService;
  metrics: ReceiverMetrics;
  logger: Logger;
  maxBodyBytes: number;
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
      void handleExport(deps, call).then(
        (response) => callback(null, response),
        (status: Partial<grpc.StatusObject>) => callback(status),
      );
    },
  });
  return server;
}

async function handleExport(deps: OtlpGrpcDeps, call: grpc.ServerUnaryCall<Buffer, ExportResponse>): Promise<ExportResponse> {
  const header = call.metadata.get('authorization')[0];
  const principal = await authenticateBearer(deps.pool, typeof header === 'string' ? header : header?.toString());
  if (!principal) {
    deps.metrics.requestsRefused.inc({ reason: 'unauthenticated' });
    throw fail(grpc.status.UNAUTHENTICATED, 'missing or invalid ingest key (metadata authorization: Bearer <key>)');
  }
  if (principal.kind !== 'ingest') {
    deps.metrics.requestsRefused.inc({ reason: 'permission_denied' });
    throw fail(grpc.status.PERMISSION_DENIED, 'this key cannot ingest: use an ingest key');
  }
  let decoded: ReturnType<typeof decodeProtobuf>;
  try {
    decoded = decodeProtobuf(call.request);
  } catch (err) {
    if (!(err instanceof UndecodableError)) throw fail(grpc.status.INTERNAL, 'internal error');
    deps.metrics.requestsRefused.inc({ reason: 'undecodable' });
    throw fail(grpc.status.INVALID_ARGUMENT, err.message);
  }
  try {
    const result = await deps.ingest.ingest(principal, decoded);
    return result.rejected > 0 ? { partialSuccess: { rejectedSpans: result.rejected, errorMessage: result.errorMessage } } : {};
  } catch (err) {
    // UNAVAILABLE is the retryable code: exporters back off and resend, nothing is lost.
    if (err instanceof ThrottledError) {
      deps.metrics.requestsRefused.inc({ reason: 'throttled' });
      throw unavailableWithRetryInfo(err.message, err.retryAfterSeconds);
    }
    if (err instanceof QueueFullError) {
      deps.metrics.requestsRefused.inc({ reason: 'overloaded' });
      throw fail(grpc.status.UNAVAILABLE, err.message);
    }
    deps.logger.error({ err }, 'ingest write failed');
    deps.metrics.requestsRefused.inc({ reason: 'write_failed' });
    throw fail(grpc.status.UNAVAILABLE, 'spans could not be stored; retry later');
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
