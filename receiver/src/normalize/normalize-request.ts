import { setImmediate } from 'node:timers/promises';
import { canonicalJson } from '@agentrace/schemas';
import type { StepRecord } from '@agentrace/store';
import type { DecodedRequest } from '../otlp/decoded.ts';
import { spanRejection } from '../otlp/validate-span.ts';
import { RedactionLog, redactValue } from '../redact/redactor.ts';
import { type NormalizeContext, normalizeSpan } from './normalize-span.ts';

export interface NormalizedRequest {
  records: StepRecord[];
  rejected: number;
  /** The first few reasons, for `partialSuccess.errorMessage`. */
  reasons: string[];
}

const MAX_REASONS = 5;

/** Normalizes every valid span of a request; invalid ones are counted with their reason, not stored. */
export function normalizeRequest(ctx: NormalizeContext, request: DecodedRequest): NormalizedRequest {
  const records: StepRecord[] = [];
  const reasons: string[] = [];
  let rejected = 0;
  const reject = (reason: string) => {
    rejected++;
    if (reasons.length < MAX_REASONS) reasons.push(reason);
  };
  for (const rs of request) {
    // Redacted once per resource and scope; each span's redaction_meta starts with what was found there.
    const resourceLog = new RedactionLog();
    const resource = redactValue(rs.resource, '$.resource', resourceLog, ctx.redaction) as typeof rs.resource;
    const resourceJson = canonicalJson(resource);
    for (const ss of rs.scopeSpans) {
      const redactions = new RedactionLog(resourceLog);
      const shared = {
        resource,
        resourceJson,
        scopeName: ss.scope.name,
        scopeJson: canonicalJson({
          name: ss.scope.name,
          version: ss.scope.version || undefined,
          attributes: redactValue(ss.scope.attributes, '$.scope.attributes', redactions, ctx.redaction),
        }),
        redactions,
      };
      for (const span of ss.spans) {
        const why = spanRejection(span);
        if (why) {
          reject(`span ${span.spanId.toString('hex') || '(no id)'}: ${why}`);
          continue;
        }
        records.push(normalizeSpan(ctx, shared, span));
      }
    }
  }
  return { records, rejected, reasons };
}

/**
 * Spans normalized between two turns of the event loop. A Collector's batch of 8,192 spans takes about
 * half a second to normalize; in one piece it would hold up everything else of the process (the query
 * API, the live stream, health checks) for that long.
 */
const SPANS_PER_TURN = 512;

/**
 * `normalizeRequest`, a slice of at most SPANS_PER_TURN spans at a time, letting the event loop run
 * between slices. The result is the same as normalizing the request in one go.
 * @example const { records } = await normalizeRequestInTurns(ctx, decodeProtobuf(body));
 */
export async function normalizeRequestInTurns(
  ctx: NormalizeContext,
  request: DecodedRequest,
): Promise<NormalizedRequest> {
  const whole: NormalizedRequest = { records: [], rejected: 0, reasons: [] };
  let first = true;
  for (const slice of requestSlices(request, SPANS_PER_TURN)) {
    if (!first) await setImmediate();
    first = false;
    const part = normalizeRequest(ctx, slice);
    for (const record of part.records) whole.records.push(record);
    whole.rejected += part.rejected;
    whole.reasons.push(...part.reasons.slice(0, MAX_REASONS - whole.reasons.length));
  }
  return whole;
}

/** The request cut into requests of at most `maxSpans` spans, in order, each span under its own resource and scope. */
function* requestSlices(request: DecodedRequest, maxSpans: number): Generator<DecodedRequest> {
  let slice: DecodedRequest = [];
  let size = 0;
  for (const rs of request) {
    for (const ss of rs.scopeSpans) {
      for (let start = 0; start < ss.spans.length; ) {
        const take = Math.min(ss.spans.length - start, maxSpans - size);
        slice.push({ ...rs, scopeSpans: [{ ...ss, spans: ss.spans.slice(start, start + take) }] });
        size += take;
        start += take;
        if (size === maxSpans) {
          yield slice;
          slice = [];
          size = 0;
        }
      }
    }
  }
  if (slice.length > 0) yield slice;
}
