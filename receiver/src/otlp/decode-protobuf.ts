import type Long from 'long';
import type { AttrValue, Attributes, DecodedRequest, DecodedSpan } from './decoded.ts';
import { UndecodableError } from './decoded.ts';
import { ExportTraceServiceRequestType, type PbAnyValue, type PbKeyValue, type PbRequest, type PbSpan } from './otlp-proto.ts';

/**
 * Decodes an `ExportTraceServiceRequest` in protobuf.
 * @example decodeProtobuf(body) // [{ resource: {...}, scopeSpans: [...] }]
 */
export function decodeProtobuf(body: Uint8Array): DecodedRequest {
  let message: PbRequest;
  try {
    message = ExportTraceServiceRequestType.decode(body) as unknown as PbRequest;
  } catch (err) {
    throw new UndecodableError(`invalid protobuf ExportTraceServiceRequest: ${(err as Error).message}`);
  }
  return message.resourceSpans.map((rs) => ({
    resource: attributesOf(rs.resource?.attributes),
    scopeSpans: rs.scopeSpans.map((ss) => ({
      scope: {
        name: ss.scope?.name ?? '',
        version: ss.scope?.version ?? '',
        attributes: attributesOf(ss.scope?.attributes),
      },
      spans: ss.spans.map(spanOf),
    })),
  }));
}

const EMPTY = Buffer.alloc(0);
// protobufjs decodes bytes as Buffers on Node, and gives an empty plain array for an absent field.
const toBuffer = (bytes: Uint8Array | undefined): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : bytes && bytes.length > 0 ? Buffer.from(bytes) : EMPTY;

function spanOf(span: PbSpan): DecodedSpan {
  return {
    traceId: toBuffer(span.traceId),
    spanId: toBuffer(span.spanId),
    parentSpanId: toBuffer(span.parentSpanId),
    traceState: span.traceState,
    name: span.name,
    kind: span.kind,
    startNs: unsigned(span.startTimeUnixNano),
    endNs: unsigned(span.endTimeUnixNano),
    attributes: attributesOf(span.attributes),
    events: span.events.map((e) => ({ timeNs: unsigned(e.timeUnixNano), name: e.name, attributes: attributesOf(e.attributes) })),
    links: span.links.map((l) => ({
      traceId: toBuffer(l.traceId).toString('hex'),
      spanId: toBuffer(l.spanId).toString('hex'),
      attributes: attributesOf(l.attributes),
    })),
    statusCode: span.status?.code ?? 0,
    statusMessage: span.status?.message ?? '',
  };
}

function unsigned(value: Long | number): bigint {
  if (typeof value === 'number') return BigInt(value);
  return (BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0);
}

function attributesOf(list: PbKeyValue[] | undefined): Attributes {
  const out: Attributes = {};
  if (!list) return out;
  for (const kv of list) out[kv.key] = anyValueOf(kv.value);
  return out;
}

function anyValueOf(value: PbAnyValue | null | undefined): AttrValue {
  switch (value?.value) {
    case 'stringValue':
      return value.stringValue ?? '';
    case 'boolValue':
      return value.boolValue ?? false;
    case 'intValue': {
      const v = value.intValue ?? 0;
      if (typeof v === 'number') return v;
      const n = v.toNumber();
      return Number.isSafeInteger(n) ? n : v.toString();
    }
    case 'doubleValue':
      return value.doubleValue ?? 0;
    case 'arrayValue':
      return (value.arrayValue?.values ?? []).map(anyValueOf);
    case 'kvlistValue':
      return attributesOf(value.kvlistValue?.values);
    case 'bytesValue':
      return toBuffer(value.bytesValue).toString('base64');
    default:
      return null;
  }
}
