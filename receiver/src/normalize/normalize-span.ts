import { OTEL, type StepStatus } from '@agentrace/schemas';
import type { StepRecord } from '@agentrace/store';
import type { DecodedEvent, DecodedSpan } from '../otlp/decoded.ts';
import type { Pricing } from '../pricing/pricing.ts';
import { redactStep } from '../redact/redact-step.ts';
import type { RedactionLog, RedactorRules } from '../redact/redactor.ts';
import { str } from './attribute-readers.ts';
import { callColumns, invocationOf, priceCall } from './invocation.ts';
import { mapSpan } from './mappers/index.ts';
import { runIdFor } from './run-id.ts';
import { nanosToIso } from './time.ts';
import { toolCallOf } from './tool-call.ts';

/** Who sent the spans, and the deployment's rules. */
export interface NormalizeContext {
  tenantId: string;
  projectId: string;
  pricing: Pricing;
  redaction: RedactorRules;
}

/** A resource (and scope) already redacted and serialized once for all of its spans. */
export interface SharedContext {
  resource: Record<string, unknown>;
  resourceJson: string;
  scopeName: string;
  scopeJson: string;
  /** Where the resource and scope were redacted, listed in each of their spans' redaction_meta. */
  redactions?: RedactionLog;
}

const STATUS: Record<number, StepStatus> = { 0: 'unset', 1: 'ok', 2: 'error' };
const SCHEMA_VERSION = 1;

/**
 * Maps one valid span onto a step (and the invocation it makes): conventions by priority, run identity,
 * error fields from status and exception events, redaction, payload hash and cost. Pure.
 */
export function normalizeSpan(ctx: NormalizeContext, shared: SharedContext, span: DecodedSpan): StepRecord {
  const mapped = mapSpan({
    name: span.name,
    kind: span.kind,
    attributes: span.attributes,
    resource: shared.resource as DecodedSpan['attributes'],
    scopeName: shared.scopeName,
    events: span.events,
  });
  const type = mapped.type ?? 'other';
  const traceHex = span.traceId.toString('hex');
  const isRoot = span.parentSpanId.length === 0 || span.parentSpanId.every((b) => b === 0);
  const ts = nanosToIso(span.startNs);
  const hasEnd = span.endNs !== 0n;
  const durationMs = hasEnd ? Number(span.endNs - span.startNs) / 1e6 : null;

  const exception = lastException(span.events);
  const status = mapped.failed ? 'error' : (STATUS[span.statusCode] ?? 'unset');
  const failed = status === 'error';
  const errorType =
    mapped.errorType ??
    (exception && str(exception.attributes, OTEL.exceptionType)) ??
    (failed ? 'error' : null);
  const rawMessage =
    span.statusMessage ||
    (exception && str(exception.attributes, OTEL.exceptionMessage)) ||
    mapped.errorMessage ||
    null;
  const rawStack = (exception && str(exception.attributes, OTEL.exceptionStacktrace)) ?? null;

  // Every stored field comes out of redaction, the typed ones (tool, model, tags...) included.
  const { input, output, ...rawFacts } = mapped;
  const redacted = redactStep(
    ctx.redaction,
    {
      name: span.name || '(unnamed span)',
      error: { type: errorType, message: rawMessage, stack: rawStack },
      payload: {
        input,
        output,
        attributes: span.attributes,
        events: span.events.map((e) => ({
          name: e.name,
          ts: nanosToIso(e.timeNs),
          attributes: e.attributes,
        })),
        links: span.links.length > 0 ? span.links : undefined,
        span_kind: span.kind,
        trace_state: span.traceState || undefined,
      },
      facts: rawFacts,
    },
    shared.redactions,
  );
  const facts = redacted.facts;
  const error = redacted.error;

  const { costUsd, costSource } = priceCall(ctx.pricing, type, facts, ts);

  return {
    tenantId: ctx.tenantId,
    projectId: ctx.projectId,
    runId: runIdFor(ctx.tenantId, traceHex, facts.runId),
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: isRoot ? null : span.parentSpanId,
    parentStepId: null,
    ts,
    endTs: hasEnd ? nanosToIso(span.endNs) : null,
    durationMs,
    type,
    name: redacted.name,
    status,
    // An exception recorded on a span that did not fail was handled: it stays in payload.events only.
    errorType: failed ? error.type : null,
    errorMessage: failed ? error.message : null,
    errorStack: failed ? error.stack : null,
    ...callColumns(facts),
    costUsd,
    payloadJson: redacted.payloadJson,
    payloadHash: redacted.payloadHash,
    redactionMeta: redacted.redactionMeta,
    schemaVersion: SCHEMA_VERSION,
    resourceJson: shared.resourceJson,
    scopeJson: shared.scopeJson,
    invocation: invocationOf({
      type,
      name: redacted.name,
      facts,
      failed,
      errorType: error.type,
      errorMessage: error.message,
      durationMs,
      costUsd,
      costSource,
    }),
    toolCall: toolCallOf(type, input),
    run: {
      isRoot,
      name: facts.runName ?? null,
      explicitStatus: facts.runStatus ?? null,
      sessionId: facts.sessionId ?? null,
      userId: facts.userId ?? null,
      agentName: facts.agentName ?? facts.contextAgentName ?? null,
      parentRunId: null,
      tags: facts.runTags ?? {},
    },
  };
}

function lastException(events: DecodedEvent[]): DecodedEvent | undefined {
  for (let i = events.length - 1; i >= 0; i--) if (events[i]!.name === 'exception') return events[i];
  return undefined;
}
