import type { NativeStep } from '@agentrace/schemas';
import type { Pool, Principal, StepOutcome } from '@agentrace/store';
import type { IngestQueue } from './ingest-queue.ts';
import type { IngestThrottle } from './ingest-throttle.ts';
import type { ReceiverMetrics } from './metrics.ts';
import { type NativeRunRef, normalizeNativeStep } from './normalize/normalize-native-step.ts';
import type { BodyEncoding } from './normalize/normalize-messages.ts';
import type { NormalizerPool } from './normalize/normalizer-pool.ts';
import type { Pricing } from './pricing/pricing.ts';
import { redactRunLabels } from './redact/redact-step.ts';
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
  /** Decodes and normalizes OTLP bodies off the main thread. */
  normalizer: NormalizerPool;
  /** Native REST steps are few and small: normalized on the main thread with these. */
  pricing: Pricing;
  redaction: RedactorRules;
  metrics: ReceiverMetrics;
  /** Spans per second per tenant; without it, no limit. */
  throttle?: IngestThrottle;
}

export type IngestPrincipal = Extract<Principal, { kind: 'ingest' }>;

/**
 * The ingest path shared by every transport (OTLP over HTTP and gRPC, native REST steps): decode and
 * normalize, queue, wait for the commit. Throws UndecodableError for a body that is not OTLP,
 * ThrottledError when the tenant is over its rate and QueueFullError when the receiver is overloaded
 * (checked before the body is decoded, so an overloaded receiver sheds load cheaply).
 */
export function createIngestService(deps: IngestServiceDeps) {
  const contextOf = (principal: IngestPrincipal) => ({
    tenantId: principal.tenantId,
    projectId: principal.projectId,
    pricing: deps.pricing,
    redaction: deps.redaction,
  });
  return {
    /** One OTLP request body (decompressed) in `encoding`. */
    async ingest(principal: IngestPrincipal, body: Uint8Array, encoding: BodyEncoding): Promise<IngestResult> {
      deps.queue.refuseWhenFull();
      const normalized = await deps.normalizer.normalize(principal, body, encoding);
      deps.throttle?.admit(principal.tenantId, normalized.records.length + normalized.rejected);
      if (normalized.rejected > 0) deps.metrics.spansRejected.inc({ reason: 'invalid_span' }, normalized.rejected);
      const outcomes = await deps.queue.submit(normalized.records);
      const duplicates = outcomes.filter((o) => o.duplicate).length;
      deps.metrics.spansAccepted.inc(outcomes.length - duplicates);
      deps.metrics.spansDuplicate.inc(duplicates);
      deps.metrics.stepsWritten(outcomes);
      return {
        accepted: outcomes.length - duplicates,
        duplicates,
        rejected: normalized.rejected,
        errorMessage: normalized.reasons.join('; '),
      };
    },

    /** A run's name and tags declared over native REST, redacted like its steps before they are stored. */
    redactRun(run: { name: string; tags: Record<string, string> }) {
      return redactRunLabels(deps.redaction, run);
    },

    /** Native REST steps of one run (already validated), written in order; outcomes in the same order. */
    async ingestNativeSteps(principal: IngestPrincipal, run: NativeRunRef, steps: NativeStep[]): Promise<StepOutcome[]> {
      deps.throttle?.admit(principal.tenantId, steps.length);
      const ctx = contextOf(principal);
      const outcomes = await deps.queue.submit(steps.map((step) => normalizeNativeStep(ctx, run, step)));
      const duplicates = outcomes.filter((o) => o.duplicate).length;
      deps.metrics.nativeSteps.inc({ outcome: 'accepted' }, outcomes.length - duplicates);
      deps.metrics.nativeSteps.inc({ outcome: 'duplicate' }, duplicates);
      deps.metrics.stepsWritten(outcomes);
      return outcomes;
    },
  };
}

export type IngestService = ReturnType<typeof createIngestService>;
