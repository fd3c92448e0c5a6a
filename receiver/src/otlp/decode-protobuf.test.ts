import { context, SpanKind, trace } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import Long from 'long';
import { describe, expect, it } from 'vitest';
import { decodeJson } from './decode-json.ts';
import { decodeProtobuf } from './decode-protobuf.ts';
import { type DecodedSpan, UndecodableError } from './decoded.ts';
import { ExportTraceServiceRequestType } from './otlp-proto.ts';

const TRACE = Buffer.from('5b8efff798038103d269b633813fc60c', 'hex');
const SPAN = Buffer.from('eee19b7ec3c1b174', 'hex');
const PARENT = Buffer.from('eee19b7ec3c1b173', 'hex');
const u64 = (decimal: string) => Long.fromString(decimal, true);

/** Encodes a request with our own descriptor (the same wire format any OTLP sender produces). */
function encode(request: Record<string, unknown>): Uint8Array {
  const message = ExportTraceServiceRequestType.fromObject(request);
  return ExportTraceServiceRequestType.encode(message).finish();
}

const pbSpan = (extra: Record<string, unknown> = {}) => ({
  traceId: TRACE,
  spanId: SPAN,
  name: 'chat gpt-4o',
  kind: 3,
  startTimeUnixNano: u64('1795322162830123457'),
  endTimeUnixNano: u64('1795322163000000005'),
  ...extra,
});

function decodeOne(span: Record<string, unknown>): DecodedSpan {
  const decoded = decodeProtobuf(
    encode({ resourceSpans: [{ scopeSpans: [{ scope: { name: 'tests' }, spans: [span] }] }] }),
  );
  return decoded[0]!.scopeSpans[0]!.spans[0]!;
}

describe('decodeProtobuf: fields of a span', () => {
  it('decodes ids, fixed64 timestamps exact to the nanosecond, kind and status', () => {
    const span = decodeOne(
      pbSpan({ parentSpanId: PARENT, traceState: 'vendor=1', status: { code: 2, message: 'boom' } }),
    );
    expect(span.traceId.equals(TRACE)).toBe(true);
    expect(span.spanId.equals(SPAN)).toBe(true);
    expect(span.parentSpanId.equals(PARENT)).toBe(true);
    expect(span.startNs).toBe(1795322162830123457n);
    expect(span.endNs).toBe(1795322163000000005n);
    expect(span).toMatchObject({
      name: 'chat gpt-4o',
      kind: 3,
      traceState: 'vendor=1',
      statusCode: 2,
      statusMessage: 'boom',
    });
  });

  it('reads fixed64 as unsigned, even above 2^63', () => {
    const span = decodeOne(
      pbSpan({ startTimeUnixNano: u64('9223372036854775809'), endTimeUnixNano: u64('18446744073709551615') }),
    );
    expect(span.startNs).toBe(9223372036854775809n);
    expect(span.endNs).toBe(18446744073709551615n);
  });

  it('decodes an absent parent span id to an empty buffer', () => {
    const span = decodeOne(pbSpan());
    expect(Buffer.isBuffer(span.parentSpanId)).toBe(true);
    expect(span.parentSpanId.length).toBe(0);
  });

  it('fills defaults for a span with no fields but its ids', () => {
    expect(decodeOne({ traceId: TRACE, spanId: SPAN })).toEqual({
      traceId: TRACE,
      spanId: SPAN,
      parentSpanId: Buffer.alloc(0),
      traceState: '',
      name: '',
      kind: 0,
      startNs: 0n,
      endNs: 0n,
      attributes: {},
      events: [],
      links: [],
      statusCode: 0,
      statusMessage: '',
    });
  });

  it('decodes events with exact times and links with hex ids', () => {
    const span = decodeOne(
      pbSpan({
        events: [
          {
            timeUnixNano: u64('1795322162930123457'),
            name: 'exception',
            attributes: [{ key: 'exception.type', value: { stringValue: 'TypeError' } }],
          },
        ],
        links: [{ traceId: TRACE, spanId: PARENT, attributes: [{ key: 'k', value: { intValue: 1 } }] }],
      }),
    );
    expect(span.events).toEqual([
      { timeNs: 1795322162930123457n, name: 'exception', attributes: { 'exception.type': 'TypeError' } },
    ]);
    expect(span.links).toEqual([
      { traceId: TRACE.toString('hex'), spanId: PARENT.toString('hex'), attributes: { k: 1 } },
    ]);
  });

  it('decodes resource and scope', () => {
    const decoded = decodeProtobuf(
      encode({
        resourceSpans: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'agent' } }] },
            scopeSpans: [
              {
                scope: {
                  name: 'my-lib',
                  version: '2.0.1',
                  attributes: [{ key: 'a', value: { boolValue: true } }],
                },
                spans: [pbSpan()],
              },
            ],
          },
        ],
      }),
    );
    expect(decoded).toHaveLength(1);
    expect(decoded[0]!.resource).toEqual({ 'service.name': 'agent' });
    expect(decoded[0]!.scopeSpans[0]!.scope).toEqual({
      name: 'my-lib',
      version: '2.0.1',
      attributes: { a: true },
    });
  });
});

describe('decodeProtobuf: AnyValue forms', () => {
  it.each([
    ['a string', { stringValue: 'hello' }, 'hello'],
    ['an empty string', { stringValue: '' }, ''],
    ['true', { boolValue: true }, true],
    ['false', { boolValue: false }, false],
    ['a small int', { intValue: 42 }, 42],
    ['zero', { intValue: 0 }, 0],
    ['a negative int', { intValue: -7 }, -7],
    ['the largest safe int', { intValue: Long.fromString('9007199254740991') }, 9007199254740991],
    [
      'an int beyond 2^53, as a decimal string',
      { intValue: Long.fromString('9007199254740993') },
      '9007199254740993',
    ],
    ['int64 max', { intValue: Long.MAX_VALUE }, '9223372036854775807'],
    ['int64 min', { intValue: Long.MIN_VALUE }, '-9223372036854775808'],
    ['a double', { doubleValue: 1.5 }, 1.5],
    ['a negative double', { doubleValue: -0.25 }, -0.25],
    ['a double that is NaN', { doubleValue: Number.NaN }, Number.NaN],
    [
      'an array',
      {
        arrayValue: {
          values: [{ stringValue: 'a' }, { intValue: 1 }, { boolValue: false }, { doubleValue: 0.5 }],
        },
      },
      ['a', 1, false, 0.5],
    ],
    ['an empty array', { arrayValue: {} }, []],
    [
      'a nested kvlist',
      {
        kvlistValue: {
          values: [
            { key: 'role', value: { stringValue: 'user' } },
            {
              key: 'parts',
              value: {
                arrayValue: {
                  values: [
                    { kvlistValue: { values: [{ key: 'n', value: { intValue: 3 } }, { key: 'none' }] } },
                  ],
                },
              },
            },
          ],
        },
      },
      { role: 'user', parts: [{ n: 3, none: null }] },
    ],
    ['bytes, as base64', { bytesValue: Buffer.from([1, 2, 3, 255]) }, 'AQID/w=='],
    ['empty bytes', { bytesValue: Buffer.alloc(0) }, ''],
    ['an empty value', {}, null],
  ])('decodes %s', (_label, value, expected) => {
    expect(decodeOne(pbSpan({ attributes: [{ key: 'attr', value }] })).attributes).toEqual({
      attr: expected,
    });
  });

  it('decodes a key with no value to null', () => {
    expect(decodeOne(pbSpan({ attributes: [{ key: 'attr' }] })).attributes).toEqual({ attr: null });
  });
});

describe('decodeProtobuf: the real OTel JS serializers', () => {
  function recordSpans() {
    const memory = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'agent', 'deployment.environment': 'test' }),
      spanProcessors: [new SimpleSpanProcessor(memory)],
    });
    const tracer = provider.getTracer('agentrace-tests', '1.2.3');
    const root = tracer.startSpan('invoke_agent planner', {
      kind: SpanKind.INTERNAL,
      startTime: [1795322162, 830123457],
      attributes: { 'gen_ai.operation.name': 'invoke_agent' },
    });
    const child = tracer.startSpan(
      'chat gpt-4o',
      {
        kind: SpanKind.CLIENT,
        startTime: [1795322162, 830123458],
        attributes: {
          str: 'x',
          int: 100,
          negative: -3,
          dbl: 0.25,
          bool: false,
          strs: ['a', 'b'],
          ints: [1, 2, 3],
        },
      },
      trace.setSpan(context.active(), root),
    );
    child.recordException(new TypeError('fetch failed'), [1795322162, 999999999]);
    child.setStatus({ code: 2, message: 'fetch failed' });
    child.end([1795322163, 5]);
    root.end([1795322164, 0]);
    return { root, child, spans: memory.getFinishedSpans() };
  }

  it('decodes ids, parentage, exact times, kinds, status, events, attributes, resource and scope', () => {
    const { root, child, spans } = recordSpans();
    const body = ProtobufTraceSerializer.serializeRequest(spans)!;
    const decoded = decodeProtobuf(body);
    expect(decoded).toHaveLength(1);
    expect(decoded[0]!.resource).toMatchObject({ 'service.name': 'agent', 'deployment.environment': 'test' });
    const scope = decoded[0]!.scopeSpans[0]!;
    expect(scope.scope).toMatchObject({ name: 'agentrace-tests', version: '1.2.3' });
    const byName = new Map(scope.spans.map((s) => [s.name, s]));
    const c = byName.get('chat gpt-4o')!;
    const r = byName.get('invoke_agent planner')!;

    expect(c.traceId.toString('hex')).toBe(child.spanContext().traceId);
    expect(c.spanId.toString('hex')).toBe(child.spanContext().spanId);
    expect(c.parentSpanId.toString('hex')).toBe(root.spanContext().spanId);
    expect(r.parentSpanId.length).toBe(0);
    expect(r.startNs).toBe(1795322162830123457n);
    expect(c.startNs).toBe(1795322162830123458n);
    expect(c.endNs).toBe(1795322163000000005n);
    expect(r.endNs).toBe(1795322164000000000n);
    expect(c.kind).toBe(3);
    expect(r.kind).toBe(1);
    expect(c.statusCode).toBe(2);
    expect(c.statusMessage).toBe('fetch failed');
    expect(c.attributes).toEqual({
      str: 'x',
      int: 100,
      negative: -3,
      dbl: 0.25,
      bool: false,
      strs: ['a', 'b'],
      ints: [1, 2, 3],
    });
    expect(c.events).toHaveLength(1);
    expect(c.events[0]).toMatchObject({
      name: 'exception',
      timeNs: 1795322162999999999n,
      attributes: { 'exception.type': 'TypeError', 'exception.message': 'fetch failed' },
    });
  });

  it('gives the same decoded request from the JSON serializer as from the protobuf one', () => {
    const { spans } = recordSpans();
    const fromProtobuf = decodeProtobuf(ProtobufTraceSerializer.serializeRequest(spans)!);
    const fromJson = decodeJson(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(spans)!));
    expect(fromJson).toEqual(fromProtobuf);
    expect(fromProtobuf[0]!.scopeSpans[0]!.spans).toHaveLength(2);
  });
});

describe('decodeProtobuf: what it refuses and tolerates', () => {
  it.each([
    ['a length prefix running past the end', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])],
    [
      'a truncated nested message',
      encode({ resourceSpans: [{ scopeSpans: [{ spans: [pbSpan()] }] }] }).subarray(0, 30),
    ],
    ['an invalid wire type', Buffer.from([0x0f, 0x01])],
    ['a JSON body sent as protobuf', Buffer.from('{"resourceSpans":[]}')],
  ])('throws UndecodableError with a message for %s', (_label, body) => {
    expect(() => decodeProtobuf(body)).toThrow(UndecodableError);
    expect(() => decodeProtobuf(body)).toThrow(/^invalid protobuf ExportTraceServiceRequest: .+/);
  });

  it('decodes an empty body to an empty request', () => {
    expect(decodeProtobuf(new Uint8Array(0))).toEqual([]);
  });

  it('skips unknown fields', () => {
    const known = encode({ resourceSpans: [{ scopeSpans: [{ spans: [pbSpan()] }] }] });
    // Field 99, varint 1, appended at top level: a newer sender's field this receiver does not know.
    const withUnknown = Buffer.concat([Buffer.from(known), Buffer.from([0x98, 0x06, 0x01])]);
    expect(decodeProtobuf(withUnknown)).toEqual(decodeProtobuf(known));
  });
});
