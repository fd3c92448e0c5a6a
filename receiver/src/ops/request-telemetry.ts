import * as grpc from '@grpc/grpc-js';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { Histogram, type Registry } from 'prom-client';
import { requestIdOf } from './request-id.ts';

/** Which listener served a request: the query API (8080) or the receiver (4318, 4317). */
export type AppName = 'api' | 'receiver';

const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
// A label value per method a client can make up would be a series per method: others are OTHER.
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/** The route label of a request that matched no route (404s, refusals before routing). */
const UNMATCHED = 'unmatched';

/** One finished request, as logged. */
interface RequestLine {
  requestId: string;
  transport: 'http' | 'grpc';
  app: AppName;
  method: string;
  route: string;
  status: number | string;
  durationMs: number;
}

const millisSince = (started: bigint) => Number(process.hrtime.bigint() - started) / 1e6;

/**
 * One log line and one latency observation per request, HTTP and gRPC alike, each with a request id
 * (the caller's sane `X-Request-Id`, else a new one, echoed back). Metrics are labelled by route
 * template (`/v1/runs/:runId`), never the raw path, so ids do not become series. Headers are never
 * logged, so keys cannot leak through it.
 * @example const telemetry = new RequestTelemetry(registry, logger); app.use(telemetry.http('api'));
 */
export class RequestTelemetry {
  private readonly httpSeconds: Histogram<'app' | 'method' | 'route' | 'status'>;
  private readonly grpcSeconds: Histogram<'method' | 'code'>;

  constructor(
    registry: Registry,
    private readonly logger: Logger,
  ) {
    this.httpSeconds = new Histogram({
      name: 'agentrace_http_request_duration_seconds',
      help: 'HTTP requests by listener, method, route template and status; _count is the request count.',
      labelNames: ['app', 'method', 'route', 'status'],
      buckets: SECONDS_BUCKETS,
      registers: [registry],
    });
    this.grpcSeconds = new Histogram({
      name: 'agentrace_grpc_request_duration_seconds',
      help: 'gRPC calls by method and status code; _count is the call count.',
      labelNames: ['method', 'code'],
      buckets: SECONDS_BUCKETS,
      registers: [registry],
    });
  }

  /** Express middleware, first in the app: the request id, then a log line and a sample when it ends. */
  http(app: AppName): RequestHandler {
    return (req, res, next) => {
      const started = process.hrtime.bigint();
      const requestId = requestIdOf(req.headers['x-request-id']);
      res.setHeader('X-Request-Id', requestId);
      // 'close' also ends requests the client gave up on (and streams it closed).
      res.once('close', () => {
        const method = METHODS.has(req.method) ? req.method : 'OTHER';
        // The matched route (the router leaves it on the request), else what the access check matched.
        const template = (req.route?.path as string | undefined) ?? (res.locals.route as string | undefined);
        // A literal colon is registered escaped (`/v1/runs/:runId\\:finish`): labelled as the path has it.
        const route = template?.replace(/\\:/g, ':') ?? UNMATCHED;
        const line: RequestLine = {
          requestId,
          transport: 'http',
          app,
          method,
          route,
          status: res.statusCode,
          durationMs: millisSince(started),
        };
        this.httpSeconds.observe(
          { app, method, route, status: String(res.statusCode) },
          line.durationMs / 1000,
        );
        this.log(line, res.statusCode >= 500);
      });
      next();
    };
  }

  /**
   * A gRPC call starts: its request id (from `x-request-id` metadata, else new, sent back in the response
   * metadata); `finish` with the status code logs it and records its latency.
   */
  grpc(
    path: string,
    call: grpc.ServerUnaryCall<unknown, unknown>,
  ): { requestId: string; finish(code: grpc.status): void } {
    const started = process.hrtime.bigint();
    const requestId = requestIdOf(call.metadata.get('x-request-id')[0]);
    const echoed = new grpc.Metadata();
    echoed.set('x-request-id', requestId);
    call.sendMetadata(echoed);
    return {
      requestId,
      finish: (code) => {
        const name = grpc.status[code] ?? String(code);
        const durationMs = millisSince(started);
        this.grpcSeconds.observe({ method: path, code: name }, durationMs / 1000);
        const failed =
          code === grpc.status.INTERNAL || code === grpc.status.UNKNOWN || code === grpc.status.UNAVAILABLE;
        this.log(
          {
            requestId,
            transport: 'grpc',
            app: 'receiver',
            method: 'POST',
            route: path,
            status: name,
            durationMs,
          },
          failed,
        );
      },
    };
  }

  private log(line: RequestLine, failed: boolean): void {
    if (failed) this.logger.warn(line, 'request');
    else this.logger.info(line, 'request');
  }
}
