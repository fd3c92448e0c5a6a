import { UNAVAILABLE_RETRY_AFTER_SECONDS } from '@agentrace/schemas';
import { authenticateBearer, type DbHealth, isDatabaseUnavailable, type Pool } from '@agentrace/store';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { QueueFullError } from '../ingest-queue.ts';
import type { IngestResult, IngestService } from '../ingest-service.ts';
import { ThrottledError } from '../ingest-throttle.ts';
import type { ReceiverMetrics } from '../metrics.ts';
import { UndecodableError } from '../otlp/decoded.ts';
import { ExportTraceServiceResponseType, RpcStatusType } from '../otlp/otlp-proto.ts';

type Encoding = 'protobuf' | 'json';

// google.rpc.Code of each HTTP status we answer with, for the Status body OTLP/HTTP failures carry.
const GRPC_CODE: Record<number, number> = { 400: 3, 401: 16, 403: 7, 413: 8, 415: 3, 429: 8, 500: 13, 503: 14 };

function encodingOf(req: Request): Encoding | null {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  if (type === 'application/json') return 'json';
  return null;
}

/** The protobuf media type the client sent (OTLP: the response uses the request's Content-Type). */
function protobufTypeOf(res: Response): string {
  const sent = (res.req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  return sent === 'application/protobuf' ? sent : 'application/x-protobuf';
}

function sendStatus(res: Response, encoding: Encoding, status: number, message: string): void {
  const code = GRPC_CODE[status] ?? 2;
  res.status(status);
  if (encoding === 'protobuf') {
    res.type(protobufTypeOf(res)).send(Buffer.from(RpcStatusType.encode({ code, message }).finish()));
  } else {
    res.type('application/json').send(JSON.stringify({ code, message }));
  }
}

/** A retryable 503: the exporter resends after Retry-After, so nothing is lost. */
function sendUnavailable(res: Response, encoding: Encoding, message: string): void {
  res.setHeader('Retry-After', String(UNAVAILABLE_RETRY_AFTER_SECONDS));
  sendStatus(res, encoding, 503, message);
}

export interface OtlpHttpDeps {
  pool: Pool;
  health: DbHealth;
  ingest: IngestService;
  metrics: ReceiverMetrics;
  logger: Logger;
  maxBodyBytes: number;
}

/**
 * `POST /v1/traces` (OTLP/HTTP): protobuf or JSON, gzip or deflate, the size limit counted after
 * decompression, an ingest key, and a response in the request's own encoding (API.md "Ingest").
 */
export function otlpHttpRouter(deps: OtlpHttpDeps): express.Router {
  const router = express.Router();
  const readBody = express.raw({ type: () => true, limit: deps.maxBodyBytes, inflate: true });

  router.post(
    '/v1/traces',
    async (req, res, next) => {
      const encoding = encodingOf(req);
      if (!encoding) {
        deps.metrics.requestsRefused.inc({ reason: 'content_type' });
        return sendStatus(res, 'json', 415, `unsupported Content-Type "${req.headers['content-type'] ?? ''}": use application/x-protobuf or application/json`);
      }
      res.locals.encoding = encoding;
      // With the database down nothing can be authenticated or stored: say so now rather than wait on it.
      if (!deps.health.up) {
        deps.metrics.requestsRefused.inc({ reason: 'unavailable' });
        return sendUnavailable(res, encoding, `database unavailable: ${deps.health.problem}; retry later`);
      }
      let principal: Awaited<ReturnType<typeof authenticateBearer>>;
      try {
        principal = await authenticateBearer(deps.pool, req.headers.authorization);
      } catch (err) {
        if (!isDatabaseUnavailable(err)) throw err;
        deps.health.reportFailure(err);
        deps.metrics.requestsRefused.inc({ reason: 'unavailable' });
        return sendUnavailable(res, encoding, 'database unavailable; retry later');
      }
      if (!principal) {
        deps.metrics.requestsRefused.inc({ reason: 'unauthenticated' });
        return sendStatus(res, encoding, 401, 'missing or invalid ingest key (Authorization: Bearer <key>)');
      }
      if (principal.kind !== 'ingest') {
        deps.metrics.requestsRefused.inc({ reason: 'permission_denied' });
        return sendStatus(res, encoding, 403, 'this key cannot ingest: use an ingest key');
      }
      res.locals.principal = principal;
      next();
    },
    readBody,
    async (req, res) => {
      const encoding = res.locals.encoding as Encoding;
      const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      let result: IngestResult;
      try {
        result = await deps.ingest.ingest(res.locals.principal, body, encoding);
      } catch (err) {
        if (err instanceof UndecodableError) {
          deps.metrics.requestsRefused.inc({ reason: 'undecodable' });
          return sendStatus(res, encoding, 400, err.message);
        }
        // OTLP's throttling answer: exporters retry after Retry-After, so nothing is lost.
        if (err instanceof ThrottledError) {
          deps.metrics.requestsRefused.inc({ reason: 'throttled' });
          res.setHeader('Retry-After', String(err.retryAfterSeconds));
          return sendStatus(res, encoding, 429, err.message);
        }
        if (err instanceof QueueFullError) {
          deps.metrics.requestsRefused.inc({ reason: 'overloaded' });
          return sendUnavailable(res, encoding, err.message);
        }
        // Not committed, so not acknowledged: the exporter retries the whole request.
        deps.logger.error({ err }, 'ingest write failed');
        deps.metrics.requestsRefused.inc({ reason: 'write_failed' });
        return sendUnavailable(res, encoding, 'spans could not be stored; retry later');
      }
      const partialSuccess =
        result.rejected > 0 ? { rejectedSpans: result.rejected, errorMessage: result.errorMessage } : undefined;
      res.status(200);
      if (encoding === 'protobuf') {
        const message = ExportTraceServiceResponseType.fromObject(partialSuccess ? { partialSuccess } : {});
        res.type(protobufTypeOf(res)).send(Buffer.from(ExportTraceServiceResponseType.encode(message).finish()));
      } else {
        res.json(partialSuccess ? { partialSuccess: { ...partialSuccess, rejectedSpans: String(result.rejected) } } : {});
      }
    },
  );

  // body-parser's failures (too large, bad gzip, unknown Content-Encoding) in OTLP's Status form.
  router.use('/v1/traces', (err: { status?: number; type?: string; message: string }, _req: Request, res: Response, next: NextFunction) => {
    const encoding = (res.locals.encoding as Encoding | undefined) ?? 'json';
    if (err.type === 'entity.too.large') {
      deps.metrics.requestsRefused.inc({ reason: 'too_large' });
      return sendStatus(res, encoding, 413, `request body exceeds ${deps.maxBodyBytes} bytes after decompression`);
    }
    if (err.type === 'encoding.unsupported') return sendStatus(res, encoding, 415, err.message);
    if (err.status && err.status >= 400 && err.status < 500) {
      deps.metrics.requestsRefused.inc({ reason: 'undecodable' });
      return sendStatus(res, encoding, 400, `could not read the request body: ${err.message}`);
    }
    next(err);
  });
  return router;
}
