import type { Step } from '@agentrace/schemas';
import { describe, expect, it } from 'vitest';
import { jsonChanges } from './json-changes.ts';
import { comparableStep, isIdKey, isTimeKey } from './normalize-step.ts';

describe('payload key rules', () => {
  it.each([
    'id',
    'ids',
    'gen_ai.response.id',
    'gen_ai.tool.call.id',
    'agentrace.run.id',
    'tool_call_id',
    'traceId',
    'spanId',
    'run-id',
    'toolCallIds',
  ])('%s is an id', (key) => expect(isIdKey(key)).toBe(true));
  it.each(['valid', 'paid', 'idle', 'identity', 'gen_ai.request.model', 'android', 'guid_format'])(
    '%s is not an id',
    (key) => expect(isIdKey(key)).toBe(false),
  );
  it.each([
    'ts',
    'time',
    'timestamp',
    'created_at',
    'start_time',
    'end_time',
    'duration',
    'duration_ms',
    'latency_ms',
    'elapsed',
    'ttft_ms',
    'startTimeUnixNano',
    'createdAt',
    'durationMs',
    'time_unix_nano',
    'date',
  ])('%s is a timestamp or a duration', (key) => expect(isTimeKey(key)).toBe(true));
  it.each([
    'status',
    'format',
    'chat',
    'update',
    'items',
    'stats',
    'text',
    'gen_ai.usage.input_tokens',
    'attributes',
  ])('%s is neither a timestamp nor a duration', (key) => expect(isTimeKey(key)).toBe(false));
});

const step: Step = {
  step_id: '00000000-0000-4000-8000-000000000001',
  run_id: '00000000-0000-4000-8000-000000000002',
  seq: 3,
  parent_step_id: null,
  ts: '2026-01-01T00:00:00.000Z',
  end_ts: '2026-01-01T00:00:01.000Z',
  duration_ms: 1000,
  type: 'tool',
  name: 'execute_tool search',
  status: 'ok',
  schema_version: 1,
  error: null,
  model: null,
  request_model: null,
  provider: null,
  tool_name: 'search',
  agent_name: 'planner',
  input_tokens: null,
  output_tokens: null,
  cost_usd: null,
  payload: {
    input: { q: 'otel' },
    output: { hits: 3 },
    attributes: { 'gen_ai.tool.call.id': 'call_1' },
    events: [],
  },
  payload_hash: `sha256:${'0'.repeat(64)}`,
  redaction_meta: { paths: [], rules: [] },
  trace_id: 'ab'.repeat(16),
  span_id: 'cd'.repeat(8),
  decision_token_id: 'tok-1',
  governance_violation: null,
};

describe('comparableStep', () => {
  it.each([
    ['structure', []],
    ['default', ['error', 'name', 'payload', 'status', 'type']],
    [
      'strict',
      [
        'agent_name',
        'cost_usd',
        'duration_ms',
        'end_ts',
        'error',
        'governance_violation',
        'input_tokens',
        'model',
        'name',
        'output_tokens',
        'payload',
        'provider',
        'redaction_meta',
        'request_model',
        'schema_version',
        'status',
        'tool_name',
        'ts',
        'type',
      ],
    ],
  ] as const)('the %s profile compares %j', (profile, fields) => {
    expect(Object.keys(comparableStep(step, profile).view).sort()).toEqual(fields);
  });

  it.each([
    ['default', ['$.payload.output.hits']],
    ['strict', ['$.duration_ms', '$.payload.output.hits', '$.payload.events[0].ts']],
    ['structure', []],
  ] as const)(
    'the %s profile skips ids (and timestamps, by default) inside the payload: %j',
    (profile, paths) => {
      const events = (ts: string) => [{ name: 'e', ts, attributes: { traceId: ts } }];
      const other: Step = {
        ...step,
        duration_ms: 5,
        payload: {
          ...step.payload,
          output: { hits: 4 },
          attributes: { 'gen_ai.tool.call.id': 'call_2' },
          events: events('b'),
        },
      };
      const a = comparableStep({ ...step, payload: { ...step.payload, events: events('a') } }, profile);
      const changes = jsonChanges(a.view, comparableStep(other, profile).view, '$', a.skip);
      expect(changes.map((c) => c.path)).toEqual(paths);
    },
  );

  it('leaves identical payloads out', () => {
    expect(comparableStep(step, 'default', true).view).not.toHaveProperty('payload');
    expect(comparableStep(step, 'strict', true).view).not.toHaveProperty('payload');
  });
});
