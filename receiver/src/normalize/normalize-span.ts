import { OTEL, type StepStatus } from '@agentrace/schemas';
import type { StepRecord } from '@agentrace/store';
import type { DecodedEvent, DecodedSpan } from '../otlp/decoded.ts';
import type { Pricing } from '../pricing/pricing.ts';
import { RedactionLog, type RedactorRules, redactString, redactValue } from '../redact/redactor.ts';
import { str } from './attribute-readers.ts';
import { canonicalJson, sha256Tagged } from './canonical-json.ts';
import { invocationOf, priceCall } from './invocation.ts';
import { mapSpan } from './mappers/index.ts';
import { runIdFor } from './run-id.ts';
import { nanosToIso } from './time.ts';

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
  const status = STATUS[span.statusCode] ?? 'unset';
  const failed = status === 'error';
  const log = new RedactionLog();
  const errorType = mapped.errorType ?? (exception && str(exception.attributes, OTEL.exceptionType)) ?? (failed ? 'error' : null);
  const rawMessage = span.statusMessage || (exception && str(exception.attributes, OTEL.exceptionMessage)) || null;
  const rawStack = (exception && str(exception.attributes, OTEL.exceptionStacktrace)) ?? null;
  const errorMessage = rawMessage === null ? null : redactString(rawMessage, '$.error.message', log, ctx.redaction);
  const errorStack = rawStack === null ? null : redactString(rawStack, '$.error.stack', log, ctx.redaction);

  const payload = redactValue(
    {
      input: mapped.input,
      output: mapped.output,
      attributes: span.attributes,
      events: span.events.map((e) => ({ name: e.name, ts: nanosToIso(e.timeNs), attributes: e.attributes })),
      links: span.links.length > 0 ? span.links : undefined,
      span_kind: span.kind,
      trace_state: span.traceState || undefined,
    },
    '$.payload',
    log,
    ctx.redaction,
  );
  const payloadJson = canonicalJson(payload);

  const { costUsd, costSource } = priceCall(ctx.pricing, type, mapped);

  return {
    tenantId: ctx.tenantId,
    projectId: ctx.projectId,
    runId: runIdFor(ctx.tenantId, traceHex, mapped.runId),
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: isRoot ? null : span.parentSpanId,
    parentStepId: null,
    ts,
    endTs: hasEnd ? nanosToIso(span.endNs) : null,
    durationMs,
    type,
    name: span.name || '(unnamed span)',
    status,
    errorType: failed || exception ? errorType : null,
    errorMessage: failed || exception ? errorMessage : null,
    errorStack: failed || exception ? errorStack : null,
    model: mapped.model ?? null,
    requestModel: mapped.requestModel ?? null,
    provider: mapped.provider ?? null,
    toolName: mapped.toolName ?? null,
    agentName: mapped.agentName ?? mapped.contextAgentName ?? null,
    inputTokens: mapped.inputTokens ?? null,
    outputTokens: mapped.outputTokens ?? null,
    costUsd,
    decisionTokenId: mapped.decisionTokenId ?? null,
    payloadJson,
    payloadHash: sha256Tagged(payloadJson),
    redactionMeta: log.toMeta(),
    schemaVersion: SCHEMA_VERSION,
    resourceJson: shared.resourceJson,
    scopeJson: shared.scopeJson,
    invocation: invocationOf({
      type,
      name: span.name,
      facts: mapped,
      failed,
      errorType,
      errorMessage,
      durationMs,
      costUsd,
      costSource,
    }),
    run: {
      isRoot,
      name: mapped.runName ?? null,
      explicitStatus: mapped.runStatus ?? null,
      sessionId: mapped.sessionId ?? null,
      userId: mapped.userId ?? null,
      agentName: mapped.agentName ?? mapped.contextAgentName ?? null,
      parentRunId: null,
      tags: mapped.runTags ?? {},
    },
  };
}

function lastException(events: DecodedEvent[]): DecodedEvent | undefined {
  for (let i = events.length - 1; i >= 0; i--) if (events[i]!.name === 'exception') return events[i];
  return undefined;
}
