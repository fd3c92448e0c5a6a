import { OTEL } from '@agentrace/schemas';
import { diag, type Span, SpanStatusCode } from '@opentelemetry/api';
import { errorClassOf, errorTypeOf } from './invocation-error.ts';

export interface SpanHooks<T> {
  /** The `error.type` of a failure: by default its known type (`errorTypeOf`), else its class name. */
  errorType?(error: unknown): string;
  /** Records what the result says (tokens, models) before the span ends. Its own failures go to diag. */
  onResult?(result: Awaited<T>, span: Span): void;
}

const isPromiseLike = (value: unknown): value is PromiseLike<unknown> =>
  typeof (value as { then?: unknown } | null)?.then === 'function';

/**
 * Runs `fn` inside `span` and ends the span when `fn` returns or its promise settles. A failure, thrown or
 * rejected, is recorded (exception event, status ERROR, `error.type`) and re-thrown unchanged: the user's
 * errors are never swallowed.
 */
export function runInSpan<T>(span: Span, fn: (span: Span) => T, hooks: SpanHooks<T>): T {
  let result: T;
  try {
    result = fn(span);
  } catch (error) {
    endFailed(span, error, hooks);
    throw error;
  }
  if (!isPromiseLike(result)) {
    endSucceeded(span, result as Awaited<T>, hooks);
    return result;
  }
  return result.then(
    (value) => {
      endSucceeded(span, value as Awaited<T>, hooks);
      return value;
    },
    (error: unknown) => {
      endFailed(span, error, hooks);
      throw error;
    },
  ) as T;
}

function endSucceeded<T>(span: Span, value: Awaited<T>, hooks: SpanHooks<T>): void {
  try {
    hooks.onResult?.(value, span);
  } catch (error) {
    diag.warn('agentrace: could not record the result of a traced call', error);
  }
  span.end();
}

function endFailed<T>(span: Span, error: unknown, hooks: SpanHooks<T>): void {
  try {
    recordFailure(span, error, hooks.errorType?.(error) ?? errorTypeOf(error) ?? errorClassOf(error));
  } catch (ownError) {
    diag.warn('agentrace: could not record a failure', ownError);
  }
  span.end();
}

/** Marks `span` failed by `error`: exception event, status ERROR with the message, `error.type`. */
function recordFailure(span: Span, error: unknown, errorType: string): void {
  const exception = error instanceof Error ? error : String(error);
  span.recordException(exception);
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
  span.setAttribute(OTEL.errorType, errorType);
}
