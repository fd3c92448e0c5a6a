import { z } from 'zod';
import type { AttrValue, Attributes, DecodedRequest, DecodedSpan } from './decoded.ts';
import { UndecodableError } from './decoded.ts';

// OTLP/JSON (proto3 JSON with OTLP's deviations): ids are hex, enums are integers, int64 is a string
// or a number. Unknown fields are ignored, as the spec requires.
// Not z.number().int(): zod caps it at 2^53, and int64 numbers go beyond (nanosecond timestamps, large
// intValues from the OTel JS exporter); such a number is still an integer, only an inexact one.
const Int64 = z.union([
  z.string().regex(/^-?\d+$/, 'must be an integer'),
  z.number().refine(Number.isInteger, 'must be an integer'),
]);
const JsonAnyValue: z.ZodType<JsonAnyValue> = z.lazy(() =>
  z.object({
    stringValue: z.string().optional(),
    boolValue: z.boolean().optional(),
    intValue: Int64.optional(),
    doubleValue: z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])]).optional(),
    arrayValue: z.object({ values: z.array(JsonAnyValue).optional() }).optional(),
    kvlistValue: z.object({ values: z.array(JsonKeyValue).optional() }).optional(),
    bytesValue: z.string().optional(),
  }),
);
interface JsonAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number | 'NaN' | 'Infinity' | '-Infinity';
  arrayValue?: { values?: JsonAnyValue[] };
  kvlistValue?: { values?: JsonKeyValue[] };
  bytesValue?: string;
}
interface JsonKeyValue {
  key: string;
  value?: JsonAnyValue | null;
}
const JsonKeyValue: z.ZodType<JsonKeyValue> = z.lazy(() =>
  z.object({ key: z.string(), value: JsonAnyValue.nullable().optional() }),
);
const Attrs = z.array(JsonKeyValue).optional();
const Id = z.string().optional();
const Enum = z.union([z.number().int(), z.string()]).optional();

const JsonSpan = z.object({
  traceId: Id,
  spanId: Id,
  parentSpanId: Id,
  traceState: z.string().optional(),
  name: z.string().optional(),
  kind: Enum,
  startTimeUnixNano: Int64.optional(),
  endTimeUnixNano: Int64.optional(),
  attributes: Attrs,
  events: z.array(z.object({ timeUnixNano: Int64.optional(), name: z.string().optional(), attributes: Attrs })).optional(),
  links: z.array(z.object({ traceId: Id, spanId: Id, attributes: Attrs })).optional(),
  status: z.object({ code: Enum, message: z.string().optional() }).optional(),
});
type JsonSpan = z.infer<typeof JsonSpan>;

const JsonRequest = z.object({
  resourceSpans: z
    .array(
      z.object({
        resource: z.object({ attributes: Attrs }).nullable().optional(),
        scopeSpans: z
          .array(
            z.object({
              scope: z.object({ name: z.string().optional(), version: z.string().optional(), attributes: Attrs }).nullable().optional(),
              spans: z.array(JsonSpan).optional(),
            }),
          )
          .optional(),
      }),
    )
    .optional(),
});

/**
 * Decodes an `ExportTraceServiceRequest` in OTLP/JSON; the error names the first bad field's path.
 * @example decodeJson('{"resourceSpans":[]}') // []
 */
export function decodeJson(body: string): DecodedRequest {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (err) {
    throw new UndecodableError(`invalid JSON: ${(err as Error).message}`);
  }
  const parsed = JsonRequest.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UndecodableError(`invalid OTLP/JSON at ${['$', ...issue.path].join('.')}: ${issue.message}`);
  }
  return (parsed.data.resourceSpans ?? []).map((rs) => ({
    resource: attributesOf(rs.resource?.attributes),
    scopeSpans: (rs.scopeSpans ?? []).map((ss) => ({
      scope: { name: ss.scope?.name ?? '', version: ss.scope?.version ?? '', attributes: attributesOf(ss.scope?.attributes) },
      spans: (ss.spans ?? []).map(spanOf),
    })),
  }));
}

const SPAN_KINDS: Record<string, number> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};
const STATUS_CODES: Record<string, number> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };

function spanOf(span: JsonSpan): DecodedSpan {
  return {
    traceId: idBytes(span.traceId, 16),
    spanId: idBytes(span.spanId, 8),
    parentSpanId: idBytes(span.parentSpanId, 8),
    traceState: span.traceState ?? '',
    name: span.name ?? '',
    kind: enumValue(span.kind, SPAN_KINDS),
    startNs: BigInt(span.startTimeUnixNano ?? 0),
    endNs: BigInt(span.endTimeUnixNano ?? 0),
    attributes: attributesOf(span.attributes),
    events: (span.events ?? []).map((e) => ({
      timeNs: BigInt(e.timeUnixNano ?? 0),
      name: e.name ?? '',
      attributes: attributesOf(e.attributes),
    })),
    links: (span.links ?? []).map((l) => ({
      traceId: idBytes(l.traceId, 16).toString('hex'),
      spanId: idBytes(l.spanId, 8).toString('hex'),
      attributes: attributesOf(l.attributes),
    })),
    statusCode: enumValue(span.status?.code, STATUS_CODES),
    statusMessage: span.status?.message ?? '',
  };
}

/**
 * OTLP/JSON ids are hex (any case). Some senders use proto3's base64 instead; both are accepted.
 * Anything else decodes to an empty id, which span validation then rejects on its own.
 */
function idBytes(id: string | undefined, size: number): Buffer {
  if (!id) return Buffer.alloc(0);
  if (id.length === size * 2 && /^[0-9a-fA-F]+$/.test(id)) return Buffer.from(id, 'hex');
  if (id.length === Math.ceil(size / 3) * 4 && /^[A-Za-z0-9+/_-]+={0,2}$/.test(id)) {
    const bytes = Buffer.from(id, 'base64');
    if (bytes.length === size) return bytes;
  }
  return Buffer.from(/^[0-9a-fA-F]*$/.test(id) && id.length % 2 === 0 ? id : '', 'hex');
}

function enumValue(value: number | string | undefined, names: Record<string, number>): number {
  if (typeof value === 'number') return value;
  return value === undefined ? 0 : (names[value] ?? 0);
}

function attributesOf(list: JsonKeyValue[] | undefined): Attributes {
  const out: Attributes = {};
  if (!list) return out;
  for (const kv of list) out[kv.key] = anyValueOf(kv.value);
  return out;
}

function anyValueOf(value: JsonAnyValue | null | undefined): AttrValue {
  if (!value) return null;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) {
    const n = Number(value.intValue);
    return Number.isSafeInteger(n) ? n : String(value.intValue);
  }
  if (value.doubleValue !== undefined) return typeof value.doubleValue === 'number' ? value.doubleValue : value.doubleValue;
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(anyValueOf);
  if (value.kvlistValue !== undefined) return attributesOf(value.kvlistValue.values);
  if (value.bytesValue !== undefined) return value.bytesValue;
  return null;
}
