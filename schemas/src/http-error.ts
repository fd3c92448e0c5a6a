import type { z } from 'zod';
import { type ErrorCode, type ErrorEnvelope, HTTP_STATUS_OF } from './errors.ts';
import { UuidParam } from './query.ts';

/**
 * The one error type of the REST endpoints (query API and native REST ingest); `errorHandler` renders it
 * as API.md's envelope. It lives here, not in an app, because both apps answer with it.
 * @example throw new HttpError('invalid_argument', 'bad run id', { run_id: 'must be a UUID' })
 */
export class HttpError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, string>,
  ) {
    super(message);
  }

  get status(): number {
    return HTTP_STATUS_OF[this.code];
  }

  get retryable(): boolean {
    return this.code === 'rate_limited' || this.code === 'unavailable';
  }
}

export const notFound = (what: string) => new HttpError('not_found', `${what} not found`);

// Structural so that schemas depends on neither express nor pino.
interface ErrorResponse {
  status(code: number): { json(body: unknown): unknown };
  getHeader(name: string): unknown;
  setHeader(name: string, value: string): unknown;
}
interface ErrorLogger {
  error(obj: object, msg: string): void;
}

/** Seconds a client should wait before retrying a 503 that did not say otherwise. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 1;

export interface ErrorHandlerOptions {
  /** Whether an unexpected error means a dependency is down (a 503 to retry, not a 500 to report). */
  isUnavailable?(err: unknown): boolean;
}

/**
 * An express error handler that renders every error as API.md's envelope: an HttpError as itself, a body
 * parser failure as 400 (413 when too large), an unreachable dependency (`isUnavailable`) as 503,
 * anything else as a logged 500. Every 503 carries Retry-After.
 */
export function errorHandler(logger: ErrorLogger, options: ErrorHandlerOptions = {}) {
  return (err: unknown, _req: unknown, res: ErrorResponse, _next: unknown) => {
    let error: HttpError;
    if (err instanceof HttpError) error = err;
    // Not logged one by one: an outage would flood the logs; the health monitor logs it once.
    else if (options.isUnavailable?.(err)) error = new HttpError('unavailable', 'the database is unavailable; retry later');
    else if (isBodyParserError(err)) {
      error =
        err.type === 'entity.too.large'
          ? new HttpError('payload_too_large', 'request body is too large')
          : new HttpError('invalid_argument', `could not read the request body: ${err.message}`);
    } else {
      logger.error({ err }, 'request failed');
      error = new HttpError('internal', 'internal error');
    }
    if (error.code === 'unavailable' && res.getHeader('Retry-After') === undefined) {
      res.setHeader('Retry-After', String(UNAVAILABLE_RETRY_AFTER_SECONDS));
    }
    const body: ErrorEnvelope = {
      error: { code: error.code, message: error.message, details: error.details, retryable: error.retryable },
    };
    res.status(error.status).json(body);
  };
}

function isBodyParserError(err: unknown): err is { type: string; message: string } {
  return typeof err === 'object' && err !== null && 'type' in err && typeof (err as { type: unknown }).type === 'string';
}

/** A path id that must be a UUID: malformed is 400, so that 404 always means "no such object". */
export function parseId(value: unknown, name: string): string {
  const parsed = UuidParam.safeParse(value);
  if (!parsed.success) throw new HttpError('invalid_argument', `${name} must be a UUID`, { [name]: 'must be a UUID' });
  return parsed.data.toLowerCase();
}

/** JSONPath-ish text of a zod issue path, as error details name fields: `steps[2].error.type`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `${out ? '.' : ''}${String(key)}`;
  return out;
}

/** Error details of a zod error: one entry per offending field (unknown fields by their own name). */
export function issueDetails(error: z.ZodError, prefix = ''): Record<string, string> {
  const details: Record<string, string> = {};
  const join = (path: string) => (prefix && path ? `${prefix}.${path}` : prefix || path);
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) details[join(fieldPath([...issue.path, key]))] = 'unknown field';
    } else {
      details[join(fieldPath(issue.path)) || 'body'] ??= issue.message;
    }
  }
  return details;
}

/**
 * Parses a JSON request body with a zod schema, or throws a 400 `invalid_argument` whose details name
 * each offending field.
 */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const details = issueDetails(parsed.error);
  throw new HttpError('invalid_argument', `invalid request body: ${Object.keys(details).join(', ')}`, details);
}
