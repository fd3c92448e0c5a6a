import type { DecodedSpan } from './decoded.ts';

const isAllZero = (id: Buffer) => id.every((b) => b === 0);

/**
 * Why a decoded span cannot be stored, or null when it can. Such spans are dropped one by one and
 * reported in `partialSuccess`; the rest of the request is kept.
 */
export function spanRejection(span: DecodedSpan): string | null {
  if (span.traceId.length !== 16) return `trace id must be 16 bytes, got ${span.traceId.length}`;
  if (isAllZero(span.traceId)) return 'trace id is all zeros';
  if (span.spanId.length !== 8) return `span id must be 8 bytes, got ${span.spanId.length}`;
  if (isAllZero(span.spanId)) return 'span id is all zeros';
  if (span.parentSpanId.length !== 0 && span.parentSpanId.length !== 8)
    return `parent span id must be empty or 8 bytes, got ${span.parentSpanId.length}`;
  if (span.startNs === 0n) return 'start time is missing';
  if (span.endNs !== 0n && span.endNs < span.startNs) return 'end time is before start time';
  return null;
}
