import { describe, expect, it } from 'vitest';
import type { DecodedRequest, DecodedSpan } from '../otlp/decoded.ts';
import { Pricing } from '../pricing/pricing.ts';
import { DEFAULT_RULES } from '../redact/redactor.ts';
import { normalizeRequest, normalizeRequestInTurns } from './normalize-request.ts';

const ctx = {
  tenantId: '7d4f7a0e-3c1b-4f5e-9a2d-1b2c3d4e5f60',
  projectId: 'c8a1d2e3-f4a5-4b6c-8d7e-0f1a2b3c4d5e',
  pricing: Pricing.load(),
  redaction: DEFAULT_RULES,
};
const TRACE = Buffer.from('5b8efff798038103d269b633813fc60c', 'hex');
const START = 1795322162830123457n;

let nextSpanId = 1;
function span(valid = true): DecodedSpan {
  const spanId = Buffer.alloc(8);
  spanId.writeUInt32BE(nextSpanId++, 4);
  return {
    traceId: TRACE,
    spanId,
    parentSpanId: Buffer.from('eee19b7ec3c1b173', 'hex'),
    traceState: '',
    name: `tool ${nextSpanId}`,
    kind: 1,
    startNs: START,
    // An invalid span ends before it starts.
    endNs: valid ? START + 1_000_000n : START - 1n,
    attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'search', api_key: 'hunter2' },
    events: [],
    links: [],
    statusCode: 0,
    statusMessage: '',
  };
}

/** 1,301 spans under two resources and three scopes, seven of them invalid: slices cut through scopes. */
function bigRequest(): DecodedRequest {
  const spans = (n: number, invalidEvery: number) =>
    Array.from({ length: n }, (_, i) => span(i % invalidEvery !== invalidEvery - 1));
  return [
    {
      resource: { 'service.name': 'planner', password: 'sekrit' },
      scopeSpans: [
        { scope: { name: 'a', version: '1', attributes: {} }, spans: spans(700, 200) },
        { scope: { name: 'b', version: '', attributes: { token: 'x' } }, spans: spans(300, 1000) },
      ],
    },
    {
      resource: { 'service.name': 'coder' },
      scopeSpans: [{ scope: { name: 'c', version: '2', attributes: {} }, spans: spans(301, 75) }],
    },
  ];
}

describe('normalizeRequestInTurns', () => {
  it('gives what normalizing the whole request at once gives: records in order, rejections and reasons', async () => {
    const request = bigRequest();
    const inTurns = await normalizeRequestInTurns(ctx, request);
    const atOnce = normalizeRequest(ctx, request);
    expect(inTurns.records.length).toBe(1301 - 7);
    expect(inTurns.rejected).toBe(7);
    expect(inTurns.reasons).toEqual(atOnce.reasons);
    expect(inTurns.records).toEqual(atOnce.records);
  });

  it('lets the event loop run while it works through a large request', async () => {
    const order: string[] = [];
    setImmediate(() => order.push('other work'));
    await normalizeRequestInTurns(ctx, bigRequest());
    order.push('normalized');
    expect(order).toEqual(['other work', 'normalized']);
  });

  it('answers an empty request with nothing', async () => {
    expect(await normalizeRequestInTurns(ctx, [])).toEqual({ records: [], rejected: 0, reasons: [] });
  });
});
