import { type ErrorCode, type ErrorEnvelope, HTTP_STATUS_OF } from '@agentrace/schemas';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';

/** The one error type of the REST API; the error handler renders it as the error envelope. */
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

/** Renders every error as API.md's envelope; anything unexpected is a logged 500. */
export function errorHandler(logger: Logger) {
  return (err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    let error: HttpError;
    if (err instanceof HttpError) error = err;
    else if (isBodyParserError(err)) {
      error =
        err.type === 'entity.too.large'
          ? new HttpError('payload_too_large', 'request body is too large')
          : new HttpError('invalid_argument', `could not read the request body: ${err.message}`);
    } else {
      logger.error({ err }, 'request failed');
      error = new HttpError('internal', 'internal error');
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
