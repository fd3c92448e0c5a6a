import { describe, expect, it } from 'vitest';
import type { DecodedSpan } from './decoded.ts';
import { spanRejection } from './validate-span.ts';

const valid = (): DecodedSpan => ({
  traceId: Buffer.from('5b8efff798038103d269b633813fc60c', 'hex'),
  spanId: Buffer.from('eee19b7ec3c1b174', 'hex'),
  parentSpanId: Buffer.from('eee19b7ec3c1b173', 'hex'),
  traceState: '',
  name: 'chat gpt-4o',
  kind: 3,
  startNs: 1795322162830123457n,
  endNs: 1795322163830123457n,
  attributes: {},
  events: [],
  links: [],
  statusCode: 0,
  statusMessage: '',
});

describe('spanRejection', () => {
  it.each<[string, Partial<DecodedSpan>, string]>([
    ['an empty trace id', { traceId: Buffer.alloc(0) }, 'trace id must be 16 bytes, got 0'],
    ['a trace id of 8 bytes', { traceId: Buffer.alloc(8, 1) }, 'trace id must be 16 bytes, got 8'],
    ['a trace id of 17 bytes', { traceId: Buffer.alloc(17, 1) }, 'trace id must be 16 bytes, got 17'],
    ['an all-zero trace id', { traceId: Buffer.alloc(16) }, 'trace id is all zeros'],
    ['an empty span id', { spanId: Buffer.alloc(0) }, 'span id must be 8 bytes, got 0'],
    ['a span id of 16 bytes', { spanId: Buffer.alloc(16, 1) }, 'span id must be 8 bytes, got 16'],
    ['an all-zero span id', { spanId: Buffer.alloc(8) }, 'span id is all zeros'],
    [
      'a parent span id of 4 bytes',
      { parentSpanId: Buffer.alloc(4, 1) },
      'parent span id must be empty or 8 bytes, got 4',
    ],
    [
      'a parent span id of 16 bytes',
      { parentSpanId: Buffer.alloc(16, 1) },
      'parent span id must be empty or 8 bytes, got 16',
    ],
    ['a missing start time', { startNs: 0n }, 'start time is missing'],
    [
      'an end one nanosecond before the start',
      { endNs: 1795322162830123456n },
      'end time is before start time',
    ],
    [
      'an end long before the start',
      { startNs: 1795322162830123457n, endNs: 1000n },
      'end time is before start time',
    ],
  ])('rejects %s', (_label, change, reason) => {
    expect(spanRejection({ ...valid(), ...change })).toBe(reason);
  });

  it.each<[string, Partial<DecodedSpan>]>([
    ['a complete child span', {}],
    ['a root span (no parent id)', { parentSpanId: Buffer.alloc(0) }],
    ['an all-zero parent id (some senders mark roots so)', { parentSpanId: Buffer.alloc(8) }],
    ['a span with no end yet', { endNs: 0n }],
    ['a span that ends when it starts', { endNs: 1795322162830123457n }],
    [
      'a trace id with a single non-zero byte',
      { traceId: Buffer.concat([Buffer.alloc(15), Buffer.from([1])]) },
    ],
  ])('accepts %s', (_label, change) => {
    expect(spanRejection({ ...valid(), ...change })).toBeNull();
  });

  it('reports the trace id before the span id when both are wrong', () => {
    expect(spanRejection({ ...valid(), traceId: Buffer.alloc(16), spanId: Buffer.alloc(3) })).toBe(
      'trace id is all zeros',
    );
  });
});
