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
