import { createHash } from 'node:crypto';
import type { StepRecord } from '@agentrace/store';
import { describe, expect, it } from 'vitest';
import { DEFAULT_REDACTION_RULES, normalizeRequest, normalizeSpan, Pricing } from '../index.ts';
import type { Attributes, DecodedEvent, DecodedSpan } from '../otlp/decoded.ts';
import type { NormalizeContext } from './normalize-span.ts';

const TENANT = '7d4f7a0e-3c1b-4f5e-9a2d-1b2c3d4e5f60';
const OTHER_TENANT = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const PROJECT = 'c8a1d2e3-f4a5-4b6c-8d7e-0f1a2b3c4d5e';
const TRACE = Buffer.from('5b8efff798038103d269b633813fc60c', 'hex');
const OTHER_TRACE = Buffer.from('0af7651916cd43dd8448eb211c80319c', 'hex');
const ROOT_ID = Buffer.from('eee19b7ec3c1b173', 'hex');
const START = 1795322162830123457n;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const ctx = (tenantId = TENANT): NormalizeContext => ({
  tenantId,
  projectId: PROJECT,
  pricing: Pricing.load(),
  redaction: DEFAULT_REDACTION_RULES,
});

let nextSpanId = 1;
function span(fields: Partial<DecodedSpan> = {}): DecodedSpan {
  const spanId = Buffer.alloc(8);
  spanId.writeUInt32BE(nextSpanId++, 4);
  return {
    traceId: TRACE,
    spanId,
    parentSpanId: ROOT_ID,
    traceState: '',
    name: 'step',
    kind: 1,
    startNs: START,
    endNs: START + 250_000_000n,
    attributes: {},
    events: [],
    links: [],
    statusCode: 0,
    statusMessage: '',
    ...fields,
  };
}

interface Envelope {
  resource?: Attributes;
  scope?: { name: string; version: string; attributes: Attributes };
  tenantId?: string;
}

/** Normalizes one span through normalizeRequest (validation, shared resource/scope) and returns its record. */
function normalizeOne(fields: Partial<DecodedSpan>, env: Envelope = {}): StepRecord {
  const result = normalizeRequest(ctx(env.tenantId), [
    {
      resource: env.resource ?? { 'service.name': 'agent' },
      scopeSpans: [
        { scope: env.scope ?? { name: 'tests', version: '1.0.0', attributes: {} }, spans: [span(fields)] },
      ],
    },
  ]);
  expect(result.rejected).toBe(0);
  expect(result.records).toHaveLength(1);
  return result.records[0]!;
}

const payloadOf = (record: StepRecord) => JSON.parse(record.payloadJson) as Record<string, unknown>;
const exception = (type: string, message: string, stack?: string, offsetNs = 1000n): DecodedEvent => ({
  name: 'exception',
  timeNs: START + offsetNs,
  attributes: {
    'exception.type': type,
    'exception.message': message,
    ...(stack ? { 'exception.stacktrace': stack } : {}),
  },
});

describe('normalizeSpan: step type and fields, by convention', () => {
  // [row, span name, attributes, expected record fields, expected invocation fields or null]
  it.each<[string, string, Attributes, Partial<StepRecord>, Record<string, unknown> | null]>([
    [
      'agentrace.step.type overrides the derived type',
      'chat gpt-4o',
      { 'agentrace.step.type': 'thought', 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o' },
      { type: 'thought', requestModel: 'gpt-4o', costUsd: null },
      null,
    ],
    [
      'an agentrace.step.type that is not a step type is ignored',
      'execute_tool search',
      {
        'agentrace.step.type': 'banana',
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': 'search',
      },
      { type: 'tool', toolName: 'search' },
      { kind: 'tool', target: 'search' },
    ],
    [
      'GenAI chat (current conventions)',
      'chat gpt-4o',
      {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.response.model': 'gpt-4o-2024-08-06',
        'gen_ai.usage.input_tokens': 1000,
        'gen_ai.usage.output_tokens': 200,
        'gen_ai.usage.cache_read.input_tokens': 400,
      },
      {
        type: 'llm',
        model: 'gpt-4o-2024-08-06',
        requestModel: 'gpt-4o',
        provider: 'openai',
        inputTokens: 1000,
        outputTokens: 200,
        // gpt-4o: 600 uncached at $2.50, 400 cached at $1.25, 200 out at $10 per 1M.
        costUsd: expect.closeTo((600 * 2.5 + 400 * 1.25 + 200 * 10) / 1e6, 12),
      },
      {
        kind: 'model',
        target: 'gpt-4o-2024-08-06',
        model: 'gpt-4o-2024-08-06',
        provider: 'openai',
        inputTokens: 1000,
        outputTokens: 200,
        cachedInputTokens: 400,
        costSource: 'estimated',
        success: true,
        latencyMs: 250,
      },
    ],
    [
      'GenAI embeddings',
      'embeddings text-embedding-3-small',
      {
        'gen_ai.operation.name': 'embeddings',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'text-embedding-3-small',
        'gen_ai.usage.input_tokens': 500,
      },
      {
        type: 'embedding',
        requestModel: 'text-embedding-3-small',
        inputTokens: 500,
        costUsd: expect.closeTo((500 * 0.02) / 1e6, 15),
      },
      { kind: 'embedding', target: 'text-embedding-3-small', costSource: 'estimated' },
    ],
    [
      'GenAI execute_tool',
      'execute_tool search',
      {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': 'search',
        'gen_ai.tool.call.id': 'call_1',
      },
      { type: 'tool', toolName: 'search', costUsd: null },
      { kind: 'tool', target: 'search', toolName: 'search', costUsd: null, costSource: null },
    ],
    [
      'GenAI invoke_agent',
      'invoke_agent planner',
      {
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.agent.name': 'planner',
        'gen_ai.provider.name': 'openai',
      },
      { type: 'agent', agentName: 'planner' },
      { kind: 'agent', target: 'planner', provider: 'openai' },
    ],
    [
      'GenAI invoke_agent named only by its span name',
      'invoke_agent coder',
      { 'gen_ai.operation.name': 'invoke_agent' },
      { type: 'agent', agentName: 'coder' },
      { kind: 'agent', target: 'coder' },
    ],
    [
      'GenAI retrieval',
      'retrieval kb-docs',
      { 'gen_ai.operation.name': 'retrieval', 'gen_ai.data_source.id': 'kb-docs' },
      { type: 'retrieval' },
      { kind: 'retrieval', target: 'kb-docs' },
    ],
    [
      'GenAI invoke_workflow',
      'invoke_workflow nightly',
      { 'gen_ai.operation.name': 'invoke_workflow', 'gen_ai.workflow.name': 'nightly' },
      { type: 'chain', run: expect.objectContaining({ name: 'nightly' }) },
      null,
    ],
    [
      'GenAI before 1.37 (gen_ai.system, prompt/completion tokens, legacy cache key)',
      'chat gpt-4o-mini',
      {
        'gen_ai.operation.name': 'chat',
        'gen_ai.system': 'az.ai.openai',
        'gen_ai.request.model': 'gpt-4o-mini',
        'gen_ai.usage.prompt_tokens': 100,
        'gen_ai.usage.completion_tokens': 50,
        'gen_ai.usage.cache_read_input_tokens': 40,
      },
      {
        type: 'llm',
        provider: 'azure.ai.openai',
        model: null,
        requestModel: 'gpt-4o-mini',
        inputTokens: 100,
        outputTokens: 50,
        // gpt-4o-mini: 60 uncached at $0.15, 40 cached at $0.075, 50 out at $0.60 per 1M.
        costUsd: expect.closeTo((60 * 0.15 + 40 * 0.075 + 50 * 0.6) / 1e6, 15),
      },
      { kind: 'model', target: 'gpt-4o-mini', provider: 'azure.ai.openai', cachedInputTokens: 40 },
    ],
    [
      'gen_ai.provider.name wins over gen_ai.system',
      'chat claude',
      {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'aws.bedrock',
        'gen_ai.system': 'anthropic',
      },
      { type: 'llm', provider: 'aws.bedrock' },
      { kind: 'model', provider: 'aws.bedrock' },
    ],
    [
      'current token keys win over the pre-1.37 ones',
      'chat gpt-4o',
      {
        'gen_ai.operation.name': 'chat',
        'gen_ai.usage.input_tokens': 7,
        'gen_ai.usage.prompt_tokens': 70,
        'gen_ai.usage.output_tokens': 3,
        'gen_ai.usage.completion_tokens': 30,
      },
      { inputTokens: 7, outputTokens: 3 },
      { kind: 'model' },
    ],
    [
      'plain OTel: a "chat <model>" span name',
      'chat gpt-4o',
      {},
      { type: 'llm', model: null },
      { kind: 'model' },
    ],
    [
      'plain OTel: an "execute_tool <tool>" span name',
      'execute_tool lookup',
      {},
      { type: 'tool', toolName: 'lookup' },
      { kind: 'tool', target: 'lookup' },
    ],
    [
      'plain OTel: an MCP "tools/call <tool>" span name',
      'tools/call read_file',
      {},
      { type: 'tool', toolName: 'read_file' },
      { kind: 'tool', target: 'read_file', toolName: 'read_file' },
    ],
    ['plain OTel: an "embeddings" span name', 'embeddings', {}, { type: 'embedding' }, { kind: 'embedding' }],
    [
      'plain OTel: an "invoke_agent" span name',
      'invoke_agent',
      {},
      { type: 'agent' },
      { kind: 'agent', target: 'invoke_agent' },
    ],
    [
      'plain OTel: a tool-name attribute alone',
      'do_it',
      { 'gen_ai.tool.name': 'calc' },
      { type: 'tool', toolName: 'calc' },
      { kind: 'tool', target: 'calc' },
    ],
    [
      'plain OTel: a model attribute alone',
      'generate',
      { 'gen_ai.request.model': 'gpt-4o' },
      { type: 'llm', requestModel: 'gpt-4o' },
      { kind: 'model', target: 'gpt-4o' },
    ],
    [
      'plain OTel: an HTTP span is "other"',
      'GET /users',
      { 'http.request.method': 'GET' },
      { type: 'other' },
      null,
    ],
    [
      'plain OTel: a name that only starts like a pattern is "other"',
      'chatbot session',
      {},
      { type: 'other' },
      null,
    ],
    [
      'an llm span with an inherited gen_ai.agent.name is not an agent',
      'chat gpt-4o',
      { 'gen_ai.operation.name': 'chat', 'gen_ai.agent.name': 'planner', 'gen_ai.request.model': 'gpt-4o' },
      { type: 'llm', agentName: 'planner' },
      { kind: 'model', target: 'gpt-4o', invoker: 'planner' },
    ],
  ])('%s', (_row, name, attributes, expected, invocation) => {
    const record = normalizeOne({ name, attributes });
    expect(record).toMatchObject(expected);
    if (invocation === null) expect(record.invocation).toBeNull();
    else expect(record.invocation).toMatchObject(invocation);
  });

  it.each([
    ['az.ai.openai', 'azure.ai.openai'],
    ['az.ai.inference', 'azure.ai.inference'],
    ['xai', 'x_ai'],
    ['mistralai', 'mistral_ai'],
    ['vertexai', 'gcp.vertex_ai'],
    ['OpenAI', 'openai'],
    ['anthropic', 'anthropic'],
  ])('normalizes the provider %j to %j', (raw, provider) => {
    const record = normalizeOne({
      name: 'chat m',
      attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.system': raw },
    });
    expect(record.provider).toBe(provider);
    expect(record.invocation?.provider).toBe(provider);
  });

  it('maps the other agentrace.* attributes onto the step, the run and the invocation', () => {
    const record = normalizeOne({
      name: 'chat gpt-4o',
      parentSpanId: Buffer.alloc(0),
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': 'gpt-4o',
        'agentrace.run.name': 'nightly eval',
        'agentrace.run.status': 'canceled',
        'agentrace.run.tags.env': 'prod',
        'agentrace.run.tags.team': 'search',
        'agentrace.task.type': 'coach',
        'agentrace.decision.token_id': 'dt_123',
        'session.id': 'sess-1',
      },
    });
    expect(record.decisionTokenId).toBe('dt_123');
    expect(record.invocation).toMatchObject({ taskType: 'coach' });
    expect(record.run).toEqual({
      isRoot: true,
      name: 'nightly eval',
      explicitStatus: 'canceled',
      sessionId: 'sess-1',
      userId: null,
      agentName: null,
      parentRunId: null,
      tags: { env: 'prod', team: 'search' },
    });
  });

  it('reads the user from the resource when the span has none', () => {
    const record = normalizeOne({ name: 'x' }, { resource: { 'service.name': 'a', 'enduser.id': 'u-9' } });
    expect(record.run.userId).toBe('u-9');
  });
});

describe('normalizeSpan: the record around the mapping', () => {
  it('keeps ids, times to the microsecond, duration, status and the raw resource and scope', () => {
    const s = span({ name: 'chat gpt-4o', kind: 3, endNs: START + 1_500n });
    const record = normalizeRequest(ctx(), [
      {
        resource: { 'service.name': 'agent' },
        scopeSpans: [{ scope: { name: 'lib', version: '2.1.0', attributes: { a: 1 } }, spans: [s] }],
      },
    ]).records[0]!;
    expect(record).toMatchObject({
      tenantId: TENANT,
      projectId: PROJECT,
      ts: '2026-11-22T04:36:02.830123Z',
      endTs: '2026-11-22T04:36:02.830124Z',
      durationMs: 0.0015,
      status: 'unset',
      schemaVersion: 1,
      parentStepId: null,
    });
    expect(record.traceId?.equals(TRACE)).toBe(true);
    expect(record.spanId?.equals(s.spanId)).toBe(true);
    expect(record.parentSpanId?.equals(ROOT_ID)).toBe(true);
    expect(record.run.isRoot).toBe(false);
    expect(JSON.parse(record.resourceJson!)).toEqual({ 'service.name': 'agent' });
    expect(JSON.parse(record.scopeJson!)).toEqual({ name: 'lib', version: '2.1.0', attributes: { a: 1 } });
    expect(payloadOf(record)).toMatchObject({ span_kind: 3 });
  });

  it.each([
    ['an empty parent id', Buffer.alloc(0)],
    ['an all-zero parent id', Buffer.alloc(8)],
  ])('treats a span with %s as the root', (_label, parentSpanId) => {
    const record = normalizeOne({ parentSpanId });
    expect(record.parentSpanId).toBeNull();
    expect(record.run.isRoot).toBe(true);
  });

  it('gives a span still open no end and no duration', () => {
    const record = normalizeOne({ endNs: 0n, attributes: { 'gen_ai.operation.name': 'execute_tool' } });
    expect(record).toMatchObject({ endTs: null, durationMs: null });
    expect(record.invocation?.latencyMs).toBeNull();
  });

  it('names an unnamed span', () => {
    expect(normalizeOne({ name: '' }).name).toBe('(unnamed span)');
  });

  it('keeps events in order, links and the trace state in the payload', () => {
    const record = normalizeOne({
      traceState: 'vendor=1',
      events: [
        { name: 'gen_ai.content.prompt', timeNs: START + 1000n, attributes: { n: 1 } },
        { name: 'thought', timeNs: START + 2000n, attributes: { text: 'hmm' } },
      ],
      links: [
        { traceId: OTHER_TRACE.toString('hex'), spanId: 'eee19b7ec3c1b174', attributes: { why: 'retry' } },
      ],
    });
    expect(payloadOf(record)).toMatchObject({
      events: [
        { name: 'gen_ai.content.prompt', ts: '2026-11-22T04:36:02.830124Z', attributes: { n: 1 } },
        { name: 'thought', ts: '2026-11-22T04:36:02.830125Z', attributes: { text: 'hmm' } },
      ],
      links: [
        { traceId: OTHER_TRACE.toString('hex'), spanId: 'eee19b7ec3c1b174', attributes: { why: 'retry' } },
      ],
      trace_state: 'vendor=1',
    });
  });

  it('counts invalid spans with their reason and keeps the valid ones', () => {
    const bad = [
      span({ spanId: Buffer.alloc(0) }),
      span({ traceId: Buffer.alloc(16) }),
      span({ startNs: 0n }),
      span({ endNs: START - 1n }),
      span({ spanId: Buffer.alloc(4, 1) }),
      span({ parentSpanId: Buffer.alloc(3, 1) }),
    ];
    const good = span({ name: 'ok' });
    const result = normalizeRequest(ctx(), [
      {
        resource: {},
        scopeSpans: [
          { scope: { name: '', version: '', attributes: {} }, spans: [bad[0]!, good, ...bad.slice(1)] },
        ],
      },
    ]);
    expect(result.rejected).toBe(6);
    expect(result.records.map((r) => r.name)).toEqual(['ok']);
    expect(result.reasons).toHaveLength(5);
    expect(result.reasons[0]).toBe('span (no id): span id must be 8 bytes, got 0');
    expect(result.reasons[1]).toBe(`span ${bad[1]!.spanId.toString('hex')}: trace id is all zeros`);
    expect(result.reasons[3]).toBe(`span ${bad[3]!.spanId.toString('hex')}: end time is before start time`);
  });

  it('is what normalizeSpan gives for the same span and shared context', () => {
    const s = span({ name: 'execute_tool x', attributes: { k: 'v' } });
    const viaRequest = normalizeRequest(ctx(), [
      {
        resource: { r: 1 },
        scopeSpans: [{ scope: { name: 'sc', version: '', attributes: {} }, spans: [s] }],
      },
    ]).records[0]!;
    const direct = normalizeSpan(
      ctx(),
      {
        resource: { r: 1 },
        resourceJson: '{"r":1}',
        scopeName: 'sc',
        scopeJson: '{"attributes":{},"name":"sc"}',
      },
      s,
    );
    expect(direct).toEqual(viaRequest);
  });
});

describe('normalizeSpan: errors', () => {
  const stack = 'TypeError: fetch failed\n    at fetchTool (tools.js:10:5)';

  it('fills error type, message and stack from the exception event', () => {
    const record = normalizeOne({
      name: 'execute_tool fetch',
      attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'fetch' },
      statusCode: 2,
      events: [exception('TypeError', 'fetch failed', stack)],
    });
    expect(record).toMatchObject({
      status: 'error',
      errorType: 'TypeError',
      errorMessage: 'fetch failed',
      errorStack: stack,
    });
    expect(record.invocation).toMatchObject({
      success: false,
      errorType: 'TypeError',
      errorMessage: 'fetch failed',
    });
    expect(payloadOf(record).events).toEqual([
      expect.objectContaining({
        name: 'exception',
        attributes: expect.objectContaining({ 'exception.type': 'TypeError' }),
      }),
    ]);
  });

  it('prefers the status message to the exception message, and error.type to the exception type', () => {
    const record = normalizeOne({
      attributes: { 'error.type': 'timeout' },
      statusCode: 2,
      statusMessage: 'upstream timed out',
      events: [exception('Error', 'boom', stack)],
    });
    expect(record).toMatchObject({
      errorType: 'timeout',
      errorMessage: 'upstream timed out',
      errorStack: stack,
    });
  });

  it('keeps an exception on a span that did not fail (handled) in the events only, not as the step error', () => {
    const record = normalizeOne({
      name: 'execute_tool retry',
      attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'retry' },
      events: [exception('TimeoutError', 'first attempt timed out')],
    });
    expect(record).toMatchObject({ status: 'unset', errorType: null, errorMessage: null, errorStack: null });
    expect(record.invocation).toMatchObject({ success: true, errorType: null });
    expect(JSON.parse(record.payloadJson).events[0].attributes['exception.type']).toBe('TimeoutError');
  });

  it('uses the last exception event when there are several', () => {
    const record = normalizeOne({
      statusCode: 2,
      events: [exception('First', 'one', undefined, 1000n), exception('Second', 'two', undefined, 2000n)],
    });
    expect(record).toMatchObject({ errorType: 'Second', errorMessage: 'two', errorStack: null });
  });

  it.each([
    ['with a message', 'upstream 502', 'upstream 502'],
    ['without a message', '', null],
  ])(
    'gives a status ERROR without exception the error type "error", %s',
    (_label, statusMessage, errorMessage) => {
      const record = normalizeOne({ name: 'execute_tool x', statusCode: 2, statusMessage });
      expect(record).toMatchObject({ status: 'error', errorType: 'error', errorMessage, errorStack: null });
      expect(record.invocation).toMatchObject({ success: false, errorType: 'error', errorMessage });
    },
  );

  it.each([
    [1, 'ok'],
    [0, 'unset'],
  ])('gives a span with status code %i (%s) no error', (statusCode, status) => {
    const record = normalizeOne({ name: 'execute_tool x', statusCode, statusMessage: 'fine' });
    expect(record).toMatchObject({ status, errorType: null, errorMessage: null, errorStack: null });
    expect(record.invocation).toMatchObject({ success: true, errorType: null, errorMessage: null });
  });
});

describe('normalizeSpan: run identity', () => {
  it('uses an explicit agentrace.run.id UUID as the run id, in lowercase, whatever the trace', () => {
    const explicit = 'E3B0C442-98FC-4C14-9AFB-F4C8996FB924';
    const a = normalizeOne({ attributes: { 'agentrace.run.id': explicit } });
    const b = normalizeOne({ traceId: OTHER_TRACE, attributes: { 'agentrace.run.id': explicit } });
    expect(a.runId).toBe(explicit.toLowerCase());
    expect(b.runId).toBe(explicit.toLowerCase());
  });

  it('derives a stable UUID from an explicit run id that is not a UUID, per tenant', () => {
    const a = normalizeOne({ attributes: { 'agentrace.run.id': 'nightly-42' } });
    const b = normalizeOne({ traceId: OTHER_TRACE, attributes: { 'agentrace.run.id': 'nightly-42' } });
    const other = normalizeOne(
      { attributes: { 'agentrace.run.id': 'nightly-42' } },
      { tenantId: OTHER_TENANT },
    );
    expect(a.runId).toMatch(UUID);
    expect(b.runId).toBe(a.runId);
    expect(other.runId).not.toBe(a.runId);
    expect(normalizeOne({ attributes: { 'agentrace.run.id': 'nightly-43' } }).runId).not.toBe(a.runId);
  });

  it('derives the run id from (tenant, trace) when none is given', () => {
    const a = normalizeOne({ name: 'one' });
    const b = normalizeOne({ name: 'two', parentSpanId: Buffer.alloc(0) });
    expect(a.runId).toMatch(UUID);
    expect(b.runId).toBe(a.runId);
    expect(normalizeOne({ traceId: OTHER_TRACE }).runId).not.toBe(a.runId);
    expect(normalizeOne({}, { tenantId: OTHER_TENANT }).runId).not.toBe(a.runId);
    // The trace's run is not the run an explicit id of the same text would name.
    expect(normalizeOne({ attributes: { 'agentrace.run.id': TRACE.toString('hex') } }).runId).not.toBe(
      a.runId,
    );
  });
});

describe('normalizeSpan: cost', () => {
  const chat = (extra: Attributes): Partial<DecodedSpan> => ({
    name: 'chat gpt-4o',
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.usage.input_tokens': 1000,
      'gen_ai.usage.output_tokens': 100,
      ...extra,
    },
  });

  it.each([
    ['a number', 0.5, 0.5],
    ['a numeric string', '0.25', 0.25],
    ['zero', 0, 0],
  ])(
    'lets agentrace.cost.usd given as %s win over the estimate, as a reported cost',
    (_label, reported, cost) => {
      const record = normalizeOne(chat({ 'agentrace.cost.usd': reported }));
      expect(record.costUsd).toBe(cost);
      expect(record.invocation).toMatchObject({ costUsd: cost, costSource: 'reported' });
    },
  );

  it('estimates the cost of a known model', () => {
    const record = normalizeOne(chat({}));
    expect(record.costUsd).toBeCloseTo((1000 * 2.5 + 100 * 10) / 1e6, 15);
    expect(record.invocation).toMatchObject({ costSource: 'estimated' });
  });

  it.each([
    ['an unknown model', chat({ 'gen_ai.request.model': 'my-local-llama' })],
    [
      'a known model without usage',
      {
        name: 'chat gpt-4o',
        attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o' },
      },
    ],
    [
      'a model call without a model',
      { name: 'chat', attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.usage.input_tokens': 10 } },
    ],
  ])('gives %s a null cost, never 0', (_label, fields) => {
    const record = normalizeOne(fields);
    expect(record.costUsd).toBeNull();
    expect(record.invocation).toMatchObject({ kind: 'model', costUsd: null, costSource: null });
  });

  it('prices the response model when it is known', () => {
    const record = normalizeOne(
      chat({ 'gen_ai.request.model': 'gpt-4o', 'gen_ai.response.model': 'gpt-4o-mini-2024-07-18' }),
    );
    expect(record.costUsd).toBeCloseTo((1000 * 0.15 + 100 * 0.6) / 1e6, 15);
  });

  it('does not price steps that are not model calls', () => {
    const record = normalizeOne({
      name: 'invoke_agent planner',
      attributes: {
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.usage.input_tokens': 1000,
        'gen_ai.usage.output_tokens': 100,
      },
    });
    expect(record.type).toBe('agent');
    expect(record.costUsd).toBeNull();
  });
});

describe('normalizeSpan: artifact invocations', () => {
  it('makes an execute_tool span with agentrace.artifact.id an artifact invocation', () => {
    const record = normalizeOne({
      name: 'execute_tool call_contract',
      attributes: {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': 'call_contract',
        'agentrace.artifact.id': 'contract_foo',
        'agentrace.invocation.method': 'transfer',
        'agentrace.invoker.id': 'agent-7',
        'gen_ai.agent.name': 'treasurer',
      },
    });
    expect(record.type).toBe('tool');
    expect(record.invocation).toMatchObject({
      kind: 'artifact',
      target: 'contract_foo',
      artifactId: 'contract_foo',
      method: 'transfer',
      invoker: 'agent-7',
      toolName: 'call_contract',
    });
  });

  it('keeps a tool call without an artifact id a tool invocation, with its method', () => {
    const record = normalizeOne({
      name: 'execute_tool http',
      attributes: { 'gen_ai.operation.name': 'execute_tool', 'agentrace.invocation.method': 'GET' },
    });
    expect(record.invocation).toMatchObject({
      kind: 'tool',
      target: 'http',
      artifactId: null,
      method: 'GET',
    });
  });
});

describe('normalizeSpan: messages in the payload', () => {
  const input = [{ role: 'user', parts: [{ type: 'text', content: 'What is OTel?' }] }];
  const output = [
    { role: 'assistant', parts: [{ type: 'text', content: 'A standard.' }], finish_reason: 'stop' },
  ];
  const system = [{ type: 'text', content: 'Be brief.' }];

  it.each<[string, Attributes]>([
    [
      'JSON strings',
      {
        'gen_ai.input.messages': JSON.stringify(input),
        'gen_ai.output.messages': JSON.stringify(output),
        'gen_ai.system_instructions': JSON.stringify(system),
      },
    ],
    [
      'structured values',
      {
        'gen_ai.input.messages': input,
        'gen_ai.output.messages': output,
        'gen_ai.system_instructions': system,
      },
    ],
  ])('puts messages given as %s structured into input and output', (_label, attributes) => {
    const record = normalizeOne({
      name: 'chat gpt-4o',
      attributes: { 'gen_ai.operation.name': 'chat', ...attributes },
    });
    const payload = payloadOf(record);
    expect(payload.input).toEqual({ system, messages: input });
    expect(payload.output).toEqual({ messages: output });
  });

  it('puts tool arguments and result into input and output, parsing JSON and keeping other text', () => {
    const record = normalizeOne({
      name: 'execute_tool search',
      attributes: {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.call.arguments': '{"q":"otel","limit":3}',
        'gen_ai.tool.call.result': 'no results',
      },
    });
    expect(payloadOf(record)).toMatchObject({
      input: { arguments: { q: 'otel', limit: 3 } },
      output: { result: 'no results' },
    });
  });

  it('keeps a message attribute that only looks like JSON as text', () => {
    const record = normalizeOne({ name: 'chat m', attributes: { 'gen_ai.input.messages': '[not json' } });
    expect(payloadOf(record).input).toEqual({ messages: '[not json' });
  });

  it('reads pre-1.37 message events', () => {
    const record = normalizeOne({
      name: 'chat m',
      events: [
        { name: 'gen_ai.system.message', timeNs: START + 1n, attributes: { content: 'Be brief.' } },
        { name: 'gen_ai.user.message', timeNs: START + 2n, attributes: { content: 'Hi' } },
        { name: 'gen_ai.choice', timeNs: START + 3n, attributes: { index: 0, finish_reason: 'stop' } },
      ],
    });
    expect(payloadOf(record)).toMatchObject({
      input: {
        messages: [
          { event: 'gen_ai.system.message', content: 'Be brief.' },
          { event: 'gen_ai.user.message', content: 'Hi' },
        ],
      },
      output: { choices: [{ index: 0, finish_reason: 'stop' }] },
    });
  });
});

describe('normalizeSpan: payload hash', () => {
  const sha256 = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;
  const sortKeys = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sortKeys)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
          )
        : v;

  const attributesA: Attributes = {
    'gen_ai.operation.name': 'chat',
    b: { y: 1, x: [{ q: 1, p: 2 }] },
    a: 'first',
  };
  const attributesB: Attributes = {
    a: 'first',
    b: { x: [{ p: 2, q: 1 }], y: 1 },
    'gen_ai.operation.name': 'chat',
  };

  it('is the sha256 of the stored payload JSON, which is canonical (keys sorted at every level)', () => {
    const record = normalizeOne({ name: 'chat m', attributes: attributesA });
    expect(record.payloadHash).toBe(sha256(record.payloadJson));
    expect(record.payloadJson).toBe(JSON.stringify(sortKeys(JSON.parse(record.payloadJson))));
  });

  it('does not depend on attribute order', () => {
    const a = normalizeOne({ name: 'chat m', attributes: attributesA });
    const b = normalizeOne({ name: 'chat m', attributes: attributesB });
    expect(b.payloadJson).toBe(a.payloadJson);
    expect(b.payloadHash).toBe(a.payloadHash);
  });

  it('changes when a value changes', () => {
    const a = normalizeOne({ name: 'chat m', attributes: attributesA });
    const c = normalizeOne({ name: 'chat m', attributes: { ...attributesA, a: 'second' } });
    expect(c.payloadHash).not.toBe(a.payloadHash);
  });
});

describe('normalizeSpan: redaction', () => {
  const bearer = 'abcdefghijklmnop1234';
  const openAiKey = `sk-proj-${'Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6kM9n'}`;
  /** The record as JSON, with Buffers as hex (as they are stored), to search it for secrets. */
  const everything = (record: StepRecord) =>
    JSON.stringify(record, (_key, v) =>
      v && typeof v === 'object' && v.type === 'Buffer' && Array.isArray(v.data)
        ? Buffer.from(v.data).toString('hex')
        : v,
    );

  it('replaces a secret in an attribute in the payload and records where', () => {
    const record = normalizeOne({
      name: 'chat gpt-4o',
      attributes: {
        'gen_ai.operation.name': 'chat',
        'request.note': `Authorization: Bearer ${bearer}`,
        'config.line': `OPENAI_API_KEY=${openAiKey}`,
      },
    });
    const attributes = payloadOf(record).attributes as Record<string, unknown>;
    expect(attributes['request.note']).toBe('Authorization: Bearer [REDACTED:pattern.bearer]');
    expect(attributes['config.line']).toBe('OPENAI_API_KEY=[REDACTED:pattern.openai_key]');
    expect(record.redactionMeta).toEqual({
      paths: ["$.attributes['request.note']", "$.attributes['config.line']"],
      rules: [
        { rule_id: 'pattern.bearer', reason: 'secret' },
        { rule_id: 'pattern.openai_key', reason: 'secret' },
      ],
    });
    expect(record.payloadHash).toBe(
      `sha256:${createHash('sha256').update(record.payloadJson).digest('hex')}`,
    );
    expect(everything(record)).not.toContain(bearer);
    expect(everything(record)).not.toContain(openAiKey);
  });

  it('leaves the secret nowhere in the record: messages, events, links, errors, headers, resource and scope', () => {
    const record = normalizeOne(
      {
        name: 'execute_tool fetch',
        attributes: {
          'gen_ai.operation.name': 'execute_tool',
          'gen_ai.tool.name': 'fetch',
          'gen_ai.tool.call.arguments': JSON.stringify({
            url: 'https://api.example.com',
            key: `${openAiKey}`,
          }),
          'gen_ai.input.messages': JSON.stringify([
            { role: 'user', parts: [{ type: 'text', content: `my key is ${openAiKey}` }] },
          ]),
          'http.request.header.authorization': [`Bearer ${bearer}`],
        },
        statusCode: 2,
        statusMessage: `401 for Bearer ${bearer}`,
        events: [
          { name: 'log', timeNs: START + 1n, attributes: { msg: `using ${openAiKey}` } },
          exception('AuthError', `rejected ${openAiKey}`, `AuthError: rejected\n  header: Bearer ${bearer}`),
        ],
        links: [
          {
            traceId: OTHER_TRACE.toString('hex'),
            spanId: 'eee19b7ec3c1b174',
            attributes: { note: `Bearer ${bearer}` },
          },
        ],
      },
      {
        resource: {
          'service.name': 'agent',
          'process.command_args': ['node', 'agent.js', `--api-key=${openAiKey}`],
        },
        scope: { name: 'my-lib', version: '1.0.0', attributes: { 'lib.config': `token=Bearer ${bearer}` } },
      },
    );
    const json = everything(record);
    expect(json).not.toContain(bearer);
    expect(json).not.toContain(openAiKey);
    expect(json).not.toContain(openAiKey.slice(8));
    expect(record.errorMessage).toBe('401 for Bearer [REDACTED:pattern.bearer]');
    expect(record.errorStack).toBe('AuthError: rejected\n  header: Bearer [REDACTED:pattern.bearer]');
    expect(record.invocation?.errorMessage).toBe(record.errorMessage);
    expect(payloadOf(record).input).toEqual({
      messages: [
        { role: 'user', parts: [{ type: 'text', content: 'my key is [REDACTED:pattern.openai_key]' }] },
      ],
    });
    expect(record.redactionMeta).toMatchObject({
      paths: expect.arrayContaining([
        '$.error.message',
        '$.error.stack',
        '$.input.messages[0].parts[0].content',
        "$.attributes['gen_ai.tool.call.arguments']",
        "$.attributes['gen_ai.input.messages']",
        "$.attributes['http.request.header.authorization'][0]",
        '$.events[0].attributes.msg',
        '$.links[0].attributes.note',
      ]),
    });
    expect(JSON.parse(record.resourceJson!)).toEqual({
      'service.name': 'agent',
      'process.command_args': ['node', 'agent.js', '--api-key=[REDACTED:pattern.openai_key]'],
    });
    expect(JSON.parse(record.scopeJson!)).toEqual({
      name: 'my-lib',
      version: '1.0.0',
      attributes: { 'lib.config': 'token=Bearer [REDACTED:pattern.bearer]' },
    });
  });

  it('redacts the secret inside structured messages and records the path', () => {
    const record = normalizeOne({
      name: 'chat m',
      attributes: {
        'gen_ai.input.messages': [
          { role: 'user', parts: [{ type: 'text', content: `key ${openAiKey} ok` }] },
        ],
      },
    });
    expect(payloadOf(record).input).toEqual({
      messages: [
        { role: 'user', parts: [{ type: 'text', content: 'key [REDACTED:pattern.openai_key] ok' }] },
      ],
    });
    expect(record.redactionMeta).toMatchObject({
      paths: expect.arrayContaining(['$.input.messages[0].parts[0].content']),
    });
    expect(everything(record)).not.toContain(openAiKey);
  });

  it('records nothing for a span without secrets', () => {
    const record = normalizeOne({
      name: 'chat m',
      attributes: { 'gen_ai.usage.input_tokens': 5, note: 'nothing to see' },
    });
    expect(record.redactionMeta).toEqual({ paths: [], rules: [] });
  });
});
