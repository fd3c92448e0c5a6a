import type { ExportStep } from '@agentrace/store';

/** An OTLP/JSON AnyValue. */
export type AnyValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: string }
  | { doubleValue: number }
  | { arrayValue: { values: AnyValue[] } }
  | { kvlistValue: { values: KeyValue[] } };
export interface KeyValue {
  key: string;
  value: AnyValue;
}

/** A JSON value as an OTLP/JSON AnyValue: integers as int64 strings, objects as key-value lists. */
export function anyValue(value: unknown): AnyValue {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'number')
    return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value };
  if (Array.isArray(value)) return { arrayValue: { values: value.map(anyValue) } };
  if (value !== null && typeof value === 'object')
    return { kvlistValue: { values: keyValues(value as Record<string, unknown>) } };
  return { stringValue: value === null || value === undefined ? '' : String(value) };
}

/** An object's entries as OTLP attributes (nulls left out: OTLP has no null attribute). */
export function keyValues(attributes: Record<string, unknown> | null | undefined): KeyValue[] {
  return Object.entries(attributes ?? {})
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([key, value]) => ({ key, value: anyValue(value) }));
}

/** Unix nanoseconds, as OTLP/JSON's decimal string, of an RFC 3339 UTC time with up to 9 fraction digits. */
export function unixNanos(iso: string): string {
  const match = /^(.*?)(?:\.(\d+))?Z$/.exec(iso);
  if (!match) throw new Error(`not an RFC 3339 UTC time: ${iso}`);
  const seconds = BigInt(Date.parse(`${match[1]}Z`) / 1000);
  const fraction = BigInt((match[2] ?? '').padEnd(9, '0').slice(0, 9));
  return String(seconds * 1_000_000_000n + fraction);
}

const STATUS_CODE = { unset: 0, ok: 1, error: 2 } as const;
const hexOfUuid = (uuid: string) => uuid.replace(/-/g, '');

interface StoredEvent {
  name?: string;
  ts?: string;
  attributes?: Record<string, unknown>;
}

/**
 * The OTLP/JSON span of a stored step: its ids, times, kind, attributes (`payload.attributes`, as
 * received), events, links, trace state and status. A native step that never was a span gets ids made
 * from our UUIDs: the run's id as its trace id (when the run has none), the step's first 8 bytes as its
 * span id, its parent step's as its parent span id.
 */
export function otlpSpan(step: ExportStep, runTraceId: string | null): Record<string, unknown> {
  const p = step.payload as Record<string, unknown>;
  const events = Array.isArray(p.events) ? (p.events as StoredEvent[]) : [];
  const span: Record<string, unknown> = {
    traceId: step.trace_id ?? runTraceId ?? hexOfUuid(step.run_id),
    spanId: step.span_id ?? hexOfUuid(step.step_id).slice(0, 16),
    parentSpanId:
      step.parent_span_id ?? (step.parent_step_id ? hexOfUuid(step.parent_step_id).slice(0, 16) : undefined),
    traceState: typeof p.trace_state === 'string' ? p.trace_state : undefined,
    name: step.name,
    kind: typeof p.span_kind === 'number' ? p.span_kind : 1,
    startTimeUnixNano: unixNanos(step.start_time),
    endTimeUnixNano: endNanos(step),
    attributes: keyValues(p.attributes as Record<string, unknown> | undefined),
    events: events.map((e) => ({
      timeUnixNano: e.ts ? unixNanos(e.ts) : unixNanos(step.start_time),
      name: e.name ?? '',
      attributes: keyValues(e.attributes),
    })),
    links: Array.isArray(p.links) ? p.links : undefined,
    status: { code: STATUS_CODE[step.status], message: step.error?.message || undefined },
  };
  return span;
}

/** The end: the start plus the duration, which is stored exactly (stored times have microseconds only). */
function endNanos(step: ExportStep): string | undefined {
  if (step.duration_ms !== null)
    return String(BigInt(unixNanos(step.start_time)) + BigInt(Math.round(step.duration_ms * 1e6)));
  return step.end_time ? unixNanos(step.end_time) : undefined;
}
