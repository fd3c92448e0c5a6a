import type { Pool, Principal } from '@agentrace/store';
import type { IngestQueue } from './ingest-queue.ts';
import type { ReceiverMetrics } from './metrics.ts';
import { normalizeRequest } from './normalize/normalize-request.ts';
import type { DecodedRequest } from './otlp/decoded.ts';
import type { Pricing } from './pricing/pricing.ts';
import type { RedactorRules } from './redact/redactor.ts';

export interface IngestResult {
  accepted: number;
  duplicates: number;
  rejected: number;
  errorMessage: string;
}

export interface IngestServiceDeps {
  pool: Pool;
  queue: IngestQueue;
  pricing: Pricing;
  redaction: RedactorRules;
  metrics: ReceiverMetrics;
}

export type IngestPrincipal = Extract<Principal, { kind: 'ingest' }>;

/**
 * The OTLP ingest path shared by every transport: normalize, queue, wait for the commit. Throws
 * QueueFullError when the receiver is overloaded.
 */
export function createIngestService(deps: IngestServiceDeps) {
  return {
    async ingest(principal: IngestPrincipal, request: DecodedRequest): Promise<IngestResult> {
      const normalized = normalizeRequest(
        { tenantId: principal.tenantId, projectId: principal.projectId, pricing: deps.pricing, redaction: deps.redaction },
        request,
      );
      if (normalized.rejected > 0) deps.metrics.spansRejected.inc({ reason: 'invalid_span' }, normalized.rejected);
      const outcomes = await deps.queue.submit(normalized.records);
      const duplicates = outcomes.filter((o) => o.duplicate).length;
      deps.metrics.spansAccepted.inc(outcomes.length - duplicates);
      deps.metrics.spansDuplicate.inc(duplicates);
      return {
        accepted: outcomes.length - duplicates,
        duplicates,
        rejected: normalized.rejected,
        errorMessage: normalized.reasons.join('; '),
      };
    },
  };
}

export type IngestService = ReturnType<typeof createIngestService>;
