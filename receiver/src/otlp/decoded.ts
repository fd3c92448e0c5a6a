/** An attribute value after decoding: plain JSON. int64 beyond 2^53 stays a decimal string. */
export type AttrValue = string | number | boolean | null | AttrValue[] | { [key: string]: AttrValue };
export type Attributes = Record<string, AttrValue>;

export interface DecodedEvent {
  timeNs: bigint;
  name: string;
  attributes: Attributes;
}

export interface DecodedLink {
  traceId: string;
  spanId: string;
  attributes: Attributes;
}

/** One span, decoded from either OTLP encoding into the same shape. */
export interface DecodedSpan {
  traceId: Buffer;
  spanId: Buffer;
  /** Empty when the span is a root. */
  parentSpanId: Buffer;
  traceState: string;
  name: string;
  kind: number;
  startNs: bigint;
  endNs: bigint;
  attributes: Attributes;
  events: DecodedEvent[];
  links: DecodedLink[];
  statusCode: number;
  statusMessage: string;
}

export interface DecodedScope {
  name: string;
  version: string;
  attributes: Attributes;
}

export interface DecodedResourceSpans {
  resource: Attributes;
  scopeSpans: { scope: DecodedScope; spans: DecodedSpan[] }[];
}

export type DecodedRequest = DecodedResourceSpans[];

/** Thrown by the decoders for a body that cannot be decoded at all (HTTP 400, gRPC INVALID_ARGUMENT). */
export class UndecodableError extends Error {
  override readonly name = 'UndecodableError';
}
