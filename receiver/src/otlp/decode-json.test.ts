import { describe, expect, it } from 'vitest';
import { decodeJson } from './decode-json.ts';
import { type DecodedSpan, UndecodableError } from './decoded.ts';

const TRACE_HEX = '5b8efff798038103d269b633813fc60c';
const SPAN_HEX = 'eee19b7ec3c1b174';
const PARENT_HEX = 'eee19b7ec3c1b173';

/** A minimal valid OTLP/JSON span; `extra` adds or replaces fields. */
const jsonSpan = (extra: Record<string, unknown> = {}) => ({
  traceId: TRACE_HEX,
  spanId: SPAN_HEX,
  name: 'chat gpt-4o',
  startTimeUnixNano: '1795322162830123457',
  endTimeUnixNano: '1795322163830123457',
  ...extra,
});

const requestOf = (...spans: unknown[]) => ({
  resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: 'tests' }, spans }] }],
});

/** Decodes a request holding one span and returns that span. */
function decodeOne(span: unknown): DecodedSpan {
  const decoded = decodeJson(JSON.stringify(requestOf(span)));
  expect(decoded).toHaveLength(1);
  expect(decoded[0]!.scopeSpans[0]!.spans).toHaveLength(1);
  return decoded[0]!.scopeSpans[0]!.spans[0]!;
}

/** The error decodeJson throws for `body`, asserting that it is an UndecodableError. */
function decodeError(body: string): UndecodableError {
  try {
    decodeJson(body);
  } catch (err) {
    expect(err).toBeInstanceOf(UndecodableError);
    return err as UndecodableError;
  }
  throw new Error('decodeJson did not throw');
}

describe('decodeJson: AnyValue forms', () => {
  it.each([
    ['a string', { stringValue: 'hello' }, 'hello'],
    ['an empty string', { stringValue: '' }, ''],
    ['true', { boolValue: true }, true],
    ['false', { boolValue: false }, false],
    ['an int as a decimal string', { intValue: '42' }, 42],
    ['an int as a JSON number', { intValue: 42 }, 42],
    ['a negative int as a string', { intValue: '-7' }, -7],
    ['zero as a string', { intValue: '0' }, 0],
    ['the largest safe int', { intValue: '9007199254740991' }, 9007199254740991],
    [
      'an int beyond 2^53, which stays a decimal string',
      { intValue: '9007199254740993' },
      '9007199254740993',
    ],
    ['int64 max', { intValue: '9223372036854775807' }, '9223372036854775807'],
    ['int64 min', { intValue: '-9223372036854775808' }, '-9223372036854775808'],
    // The OTel JS exporter sends intValue as a JSON number even beyond 2^53 (precision is the sender's loss).
    ['an int beyond 2^53 sent as a JSON number', { intValue: 2 ** 60 }, String(2 ** 60)],
    ['a double', { doubleValue: 1.5 }, 1.5],
    ['a whole double', { doubleValue: 2 }, 2],
    ['NaN, spelled as proto3 JSON spells it', { doubleValue: 'NaN' }, 'NaN'],
    ['Infinity', { doubleValue: 'Infinity' }, 'Infinity'],
    ['-Infinity', { doubleValue: '-Infinity' }, '-Infinity'],
    [
      'an array of mixed values',
      {
        arrayValue: {
          values: [{ stringValue: 'a' }, { intValue: '1' }, { boolValue: true }, { doubleValue: 0.5 }],
        },
      },
      ['a', 1, true, 0.5],
    ],
    ['an empty array', { arrayValue: {} }, []],
    ['an array holding an empty value', { arrayValue: { values: [{}] } }, [null]],
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
    ['an empty kvlist', { kvlistValue: {} }, {}],
    ['bytes (base64, kept as base64 text)', { bytesValue: 'AQID/w==' }, 'AQID/w=='],
    ['an empty value', {}, null],
    ['a null value', null, null],
  ])('decodes %s', (_label, value, expected) => {
    const span = decodeOne(jsonSpan({ attributes: [{ key: 'attr', value }] }));
    expect(span.attributes).toEqual({ attr: expected });
  });

  it('decodes a key with no value at all to null', () => {
    expect(decodeOne(jsonSpan({ attributes: [{ key: 'attr' }] })).attributes).toEqual({ attr: null });
  });

  it('decodes the attributes of the resource, the scope, events and links the same way', () => {
    const attributes = [
      { key: 's', value: { stringValue: 'x' } },
      { key: 'i', value: { intValue: '5' } },
    ];
    const decoded = decodeJson(
      JSON.stringify({
        resourceSpans: [
          {
            resource: { attributes },
            scopeSpans: [
              {
                scope: { name: 'scope', version: '1.0.0', attributes },
                spans: [
                  jsonSpan({
                    events: [{ timeUnixNano: '1795322162930123457', name: 'ev', attributes }],
                    links: [
                      { traceId: TRACE_HEX.toUpperCase(), spanId: PARENT_HEX.toUpperCase(), attributes },
                    ],
                  }),
                ],
              },
            ],
          },
        ],
      }),
    );
    const expected = { s: 'x', i: 5 };
    const rs = decoded[0]!;
    expect(rs.resource).toEqual(expected);
    expect(rs.scopeSpans[0]!.scope).toEqual({ name: 'scope', version: '1.0.0', attributes: expected });
    const span = rs.scopeSpans[0]!.spans[0]!;
    expect(span.events).toEqual([{ timeNs: 1795322162930123457n, name: 'ev', attributes: expected }]);
    // Link ids are rendered as lowercase hex whatever case they came in.
    expect(span.links).toEqual([{ traceId: TRACE_HEX, spanId: PARENT_HEX, attributes: expected }]);
  });
});

describe('decodeJson: ids', () => {
  const traceBytes = Buffer.from(TRACE_HEX, 'hex');
  const spanBytes = Buffer.from(SPAN_HEX, 'hex');
  const parentBytes = Buffer.from(PARENT_HEX, 'hex');

  it.each([
    ['lowercase hex', TRACE_HEX, SPAN_HEX, PARENT_HEX],
    ['uppercase hex', TRACE_HEX.toUpperCase(), SPAN_HEX.toUpperCase(), PARENT_HEX.toUpperCase()],
    ['mixed-case hex', '5B8EFFF798038103d269b633813fc60c', 'EEE19b7ec3c1b174', 'eee19B7EC3C1B173'],
    [
      'base64 (proto3 JSON)',
      traceBytes.toString('base64'),
      spanBytes.toString('base64'),
      parentBytes.toString('base64'),
    ],
  ])('accepts ids in %s', (_label, traceId, spanId, parentSpanId) => {
    const span = decodeOne(jsonSpan({ traceId, spanId, parentSpanId }));
    expect(span.traceId.equals(traceBytes)).toBe(true);
    expect(span.spanId.equals(spanBytes)).toBe(true);
    expect(span.parentSpanId.equals(parentBytes)).toBe(true);
  });

  it('checks the base64 fixture is not hex in disguise', () => {
    expect(traceBytes.toString('base64')).toHaveLength(24);
    expect(spanBytes.toString('base64')).toHaveLength(12);
  });

  it.each([
    ['absent', undefined],
    ['an empty string', ''],
  ])('decodes a parent span id that is %s to an empty id (a root span)', (_label, parentSpanId) => {
    const span = decodeOne(jsonSpan({ parentSpanId }));
    expect(Buffer.isBuffer(span.parentSpanId)).toBe(true);
    expect(span.parentSpanId.length).toBe(0);
  });

  it.each([
    ['a short hex trace id', { traceId: '0102' }, 'traceId', 2],
    ['a long hex span id', { spanId: 'eee19b7ec3c1b17400' }, 'spanId', 9],
    ['an id that is neither hex nor base64', { spanId: 'not an id!!!' }, 'spanId', 0],
  ] as const)('keeps %s wrong-sized, for span validation to reject', (_label, ids, field, length) => {
    expect(decodeOne(jsonSpan(ids))[field].length).toBe(length);
  });
});

describe('decodeJson: enums and timestamps', () => {
  it.each([
    ['an integer', 3, 3],
    ['an enum name', 'SPAN_KIND_CLIENT', 3],
    ['SPAN_KIND_SERVER', 'SPAN_KIND_SERVER', 2],
    ['SPAN_KIND_INTERNAL', 'SPAN_KIND_INTERNAL', 1],
    ['SPAN_KIND_PRODUCER', 'SPAN_KIND_PRODUCER', 4],
    ['SPAN_KIND_CONSUMER', 'SPAN_KIND_CONSUMER', 5],
    ['absent', undefined, 0],
  ])('reads span kind given as %s', (_label, kind, expected) => {
    expect(decodeOne(jsonSpan({ kind })).kind).toBe(expected);
  });

  it.each([
    ['an integer', { code: 2, message: 'boom' }, 2, 'boom'],
    ['an enum name', { code: 'STATUS_CODE_ERROR', message: 'boom' }, 2, 'boom'],
    ['STATUS_CODE_OK', { code: 'STATUS_CODE_OK' }, 1, ''],
    ['STATUS_CODE_UNSET', { code: 'STATUS_CODE_UNSET' }, 0, ''],
    ['absent', undefined, 0, ''],
  ])('reads the status code given as %s', (_label, status, code, message) => {
    const span = decodeOne(jsonSpan({ status }));
    expect(span.statusCode).toBe(code);
    expect(span.statusMessage).toBe(message);
  });

  it.each([
    [
      'decimal strings, exact to the nanosecond',
      '1795322162830123457',
      '1795322163000000005',
      1795322162830123457n,
      1795322163000000005n,
    ],
    ['JSON numbers', 1700000000000000000, 1700000000500000000, 1700000000000000000n, 1700000000500000000n],
    ['an absent end (a span still open)', '1795322162830123457', undefined, 1795322162830123457n, 0n],
  ])('reads timestamps given as %s', (_label, start, end, startNs, endNs) => {
    const span = decodeOne(jsonSpan({ startTimeUnixNano: start, endTimeUnixNano: end }));
    expect(span.startNs).toBe(startNs);
    expect(span.endNs).toBe(endNs);
  });

  it('reads event timestamps given as numbers or strings', () => {
    const span = decodeOne(
      jsonSpan({
        events: [
          { timeUnixNano: 1700000000000000000, name: 'a' },
          { timeUnixNano: '1795322162830123457', name: 'b' },
        ],
      }),
    );
    expect(span.events.map((e) => e.timeNs)).toEqual([1700000000000000000n, 1795322162830123457n]);
  });
});

describe('decodeJson: what it refuses', () => {
  it.each([
    ['truncated JSON', '{"resourceSpans":['],
    ['an empty body', ''],
    ['plain text', 'hello'],
  ])('refuses %s as invalid JSON, with the parser message', (_label, body) => {
    const err = decodeError(body);
    expect(err.message).toMatch(/^invalid JSON: .+/);
  });

  it.each([
    ['a span name that is a number', { name: 5 }, '$.resourceSpans.0.scopeSpans.0.spans.1.name'],
    [
      'a start time that is not an integer',
      { startTimeUnixNano: 'soon' },
      '$.resourceSpans.0.scopeSpans.0.spans.1.startTimeUnixNano',
    ],
    [
      'a fractional end time',
      { endTimeUnixNano: 1.5 },
      '$.resourceSpans.0.scopeSpans.0.spans.1.endTimeUnixNano',
    ],
    ['a kind that is a boolean', { kind: true }, '$.resourceSpans.0.scopeSpans.0.spans.1.kind'],
    [
      'a stringValue that is a number',
      { attributes: [{ key: 'k', value: { stringValue: 7 } }] },
      '$.resourceSpans.0.scopeSpans.0.spans.1.attributes.0.value.stringValue',
    ],
    [
      'an intValue that is not an integer',
      { attributes: [{ key: 'k', value: { intValue: '1.5' } }] },
      '$.resourceSpans.0.scopeSpans.0.spans.1.attributes.0.value.intValue',
    ],
    [
      'an attribute without a key',
      { attributes: [{ value: { stringValue: 'x' } }] },
      '$.resourceSpans.0.scopeSpans.0.spans.1.attributes.0.key',
    ],
    [
      'an event time that is not an integer',
      { events: [{ name: 'e', timeUnixNano: 'later' }] },
      '$.resourceSpans.0.scopeSpans.0.spans.1.events.0.timeUnixNano',
    ],
    [
      'a status message that is a number',
      { status: { code: 2, message: 500 } },
      '$.resourceSpans.0.scopeSpans.0.spans.1.status.message',
    ],
  ])('names the path of %s', (_label, bad, path) => {
    // The bad span is the second one: the path must point at it, not at the valid first span.
    const err = decodeError(JSON.stringify(requestOf(jsonSpan(), jsonSpan(bad))));
    expect(err.message).toContain(path);
    expect(err.message).toMatch(/^invalid OTLP\/JSON at /);
  });

  it.each([
    ['resourceSpans that is an object', { resourceSpans: {} }, 'at $.resourceSpans:'],
    ['a body that is an array', [], 'at $:'],
    ['a body that is null', null, 'at $:'],
    [
      'scopeSpans that is a string',
      { resourceSpans: [{ scopeSpans: 'x' }] },
      'at $.resourceSpans.0.scopeSpans:',
    ],
  ])('names the path of %s', (_label, body, where) => {
    expect(decodeError(JSON.stringify(body)).message).toContain(where);
  });
});

describe('decodeJson: what it tolerates', () => {
  it('ignores unknown fields at every level, as OTLP requires', () => {
    const plain = requestOf(jsonSpan({ attributes: [{ key: 'k', value: { stringValue: 'v' } }] }));
    const withExtras = {
      futureTopLevel: 1,
      resourceSpans: [
        {
          schemaUrl: 'https://opentelemetry.io/schemas/1.30.0',
          resource: { attributes: [], droppedAttributesCount: 3, entityRefs: [{ type: 'service' }] },
          scopeSpans: [
            {
              schemaUrl: 'x',
              scope: { name: 'tests', droppedAttributesCount: 0, somethingNew: true },
              spans: [
                jsonSpan({
                  flags: 257,
                  droppedAttributesCount: 1,
                  droppedEventsCount: 2,
                  droppedLinksCount: 3,
                  unknownSpanField: { nested: [1, 2] },
                  attributes: [{ key: 'k', value: { stringValue: 'v', unknownValueField: 1 }, extra: 'x' }],
                }),
              ],
            },
          ],
        },
      ],
    };
    expect(decodeJson(JSON.stringify(withExtras))).toEqual(decodeJson(JSON.stringify(plain)));
    expect(decodeOne(jsonSpan({ unknownSpanField: 1 })).name).toBe('chat gpt-4o');
  });

  it.each([
    ['an empty object', '{}'],
    ['an empty resourceSpans list', '{"resourceSpans":[]}'],
  ])('decodes %s to an empty request', (_label, body) => {
    expect(decodeJson(body)).toEqual([]);
  });

  it('keeps a resource with no scopes, and scopes with no spans', () => {
    expect(decodeJson('{"resourceSpans":[{"resource":null},{"scopeSpans":[{"scope":null}]}]}')).toEqual([
      { resource: {}, scopeSpans: [] },
      { resource: {}, scopeSpans: [{ scope: { name: '', version: '', attributes: {} }, spans: [] }] },
    ]);
  });

  it('fills the defaults of absent span fields', () => {
    const span = decodeOne({ traceId: TRACE_HEX, spanId: SPAN_HEX });
    expect(span).toEqual({
      traceId: Buffer.from(TRACE_HEX, 'hex'),
      spanId: Buffer.from(SPAN_HEX, 'hex'),
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
});
