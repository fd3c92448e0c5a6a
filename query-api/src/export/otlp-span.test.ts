import type { ExportStep } from '@agentrace/store';
import { describe, expect, it } from 'vitest';
import { anyValue, keyValues, otlpSpan, unixNanos } from './otlp-span.ts';

describe('anyValue', () => {
  it.each([
    ['a string', 'hi', { stringValue: 'hi' }],
    ['a boolean', false, { boolValue: false }],
    ['an integer, as an int64 string', 42, { intValue: '42' }],
    ['a double', 0.5, { doubleValue: 0.5 }],
    ['an array', ['a', 1], { arrayValue: { values: [{ stringValue: 'a' }, { intValue: '1' }] } }],
    ['an object', { k: true }, { kvlistValue: { values: [{ key: 'k', value: { boolValue: true } }] } }],
  ])('encodes %s', (_, value, expected) => expect(anyValue(value)).toEqual(expected));

  it('leaves null attributes out', () => {
    expect(keyValues({ a: 1, b: null })).toEqual([{ key: 'a', value: { intValue: '1' } }]);
  });
});

describe('unixNanos', () => {
  it.each([
    ['2026-01-02T03:04:05Z', '1767323045000000000'],
    ['2026-01-02T03:04:05.123Z', '1767323045123000000'],
    ['2026-01-02T03:04:05.123456Z', '1767323045123456000'],
    ['2026-01-02T03:04:05.123456789Z', '1767323045123456789'],
  ])('reads %s as %s', (iso, nanos) => expect(unixNanos(iso)).toBe(nanos));
});

const step: ExportStep = {
  step_id: '0b7e2f1a-1111-4222-8333-444455556666',
  run_id: '9f0c0c5e-aaaa-4bbb-8ccc-dddddddddddd',
  seq: 2,
  parent_step_id: '1c2d3e4f-0000-4000-8000-000000000001',
  ts: '2026-01-02T03:04:05.123Z',
  end_ts: '2026-01-02T03:04:06.000Z',
  duration_ms: 876.5,
  type: 'tool',
  name: 'execute_tool fetch',
  status: 'error',
  schema_version: 1,
  error: { type: 'TypeError', message: 'connection refused', stack: null },
  model: null,
  request_model: null,
  provider: null,
  tool_name: 'fetch',
  agent_name: null,
  input_tokens: null,
  output_tokens: null,
  cost_usd: null,
  payload: {
    attributes: { 'gen_ai.tool.name': 'fetch', 'http.status': 503 },
    events: [
      { name: 'exception', ts: '2026-01-02T03:04:05.900000Z', attributes: { 'exception.type': 'TypeError' } },
    ],
    span_kind: 3,
  },
  payload_hash: `sha256:${'0'.repeat(64)}`,
  redaction_meta: { paths: [], rules: [] },
  trace_id: '5b8efff798038103d269b633813fc60c',
  span_id: 'eee19b7ec3c1b174',
  decision_token_id: null,
  governance_violation: null,
  parent_span_id: 'aaaaaaaaaaaaaaaa',
  start_time: '2026-01-02T03:04:05.123456Z',
  end_time: '2026-01-02T03:04:06.000000Z',
  resource: { 'service.name': 'agent' },
  scope: { name: 'tests' },
};

describe('otlpSpan', () => {
  it('rebuilds a stored span: ids, exact times, kind, attributes, events and status', () => {
    expect(otlpSpan(step, null)).toEqual({
      traceId: '5b8efff798038103d269b633813fc60c',
      spanId: 'eee19b7ec3c1b174',
      parentSpanId: 'aaaaaaaaaaaaaaaa',
      traceState: undefined,
      name: 'execute_tool fetch',
      kind: 3,
      startTimeUnixNano: '1767323045123456000',
      endTimeUnixNano: '1767323045999956000',
      attributes: [
        { key: 'gen_ai.tool.name', value: { stringValue: 'fetch' } },
        { key: 'http.status', value: { intValue: '503' } },
      ],
      events: [
        {
          timeUnixNano: '1767323045900000000',
          name: 'exception',
          attributes: [{ key: 'exception.type', value: { stringValue: 'TypeError' } }],
        },
      ],
      links: undefined,
      status: { code: 2, message: 'connection refused' },
    });
  });

  it('makes span ids from our UUIDs for a native step', () => {
    const native = {
      ...step,
      trace_id: null,
      span_id: null,
      parent_span_id: null,
      status: 'ok' as const,
      error: null,
    };
    expect(otlpSpan(native, null)).toMatchObject({
      traceId: '9f0c0c5eaaaa4bbb8cccdddddddddddd',
      spanId: '0b7e2f1a11114222',
      parentSpanId: '1c2d3e4f00004000',
      status: { code: 1 },
    });
    expect(otlpSpan(native, 'ab'.repeat(16)).traceId).toBe('ab'.repeat(16));
  });
});
