import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { traceModelCall } from './model-call.ts';
import { run } from './run.ts';
import { registerTaskType } from './task-types.ts';
import { useMemoryTracing } from './testing/memory-tracing.ts';

const t = useMemoryTracing();
const spec = { taskType: 'coach', provider: 'openai', model: 'gpt-4o' } as const;

describe('traceModelCall()', () => {
  it('records a CLIENT span with the GenAI request attributes, the task type and the calling agent', async () => {
    await run('r', { agent: 'coach-bot', runId: 'run-1' }, () =>
      traceModelCall(spec, async () => ({ text: 'hi' })),
    );
    const call = t.span('chat gpt-4o');
    expect(call.kind).toBe(SpanKind.CLIENT);
    expect(call.parentSpanContext?.spanId).toBe(t.span('r').spanContext().spanId);
    expect(call.attributes).toEqual({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'agentrace.task.type': 'coach',
      'gen_ai.agent.name': 'coach-bot',
      'agentrace.run.id': 'run-1',
    });
  });

  it.each([
    [
      'an OpenAI chat completion',
      {
        id: 'chatcmpl-1',
        model: 'gpt-4o-2024-08-06',
        usage: {
          prompt_tokens: 120,
          completion_tokens: 30,
          prompt_tokens_details: { cached_tokens: 100 },
          completion_tokens_details: { reasoning_tokens: 7 },
        },
        choices: [{ finish_reason: 'stop' }],
      },
      {
        'gen_ai.usage.input_tokens': 120,
        'gen_ai.usage.output_tokens': 30,
        'gen_ai.usage.cache_read.input_tokens': 100,
        'gen_ai.usage.reasoning.output_tokens': 7,
        'gen_ai.response.model': 'gpt-4o-2024-08-06',
        'gen_ai.response.id': 'chatcmpl-1',
        'gen_ai.response.finish_reasons': ['stop'],
      },
    ],
    [
      'an Anthropic message',
      {
        id: 'msg_1',
        model: 'claude-sonnet-4-5',
        usage: {
          input_tokens: 50,
          output_tokens: 9,
          cache_read_input_tokens: 40,
          cache_creation_input_tokens: 10,
        },
        stop_reason: 'end_turn',
      },
      {
        'gen_ai.usage.input_tokens': 50,
        'gen_ai.usage.output_tokens': 9,
        'gen_ai.usage.cache_read.input_tokens': 40,
        'gen_ai.usage.cache_creation.input_tokens': 10,
        'gen_ai.response.model': 'claude-sonnet-4-5',
        'gen_ai.response.id': 'msg_1',
        'gen_ai.response.finish_reasons': ['end_turn'],
      },
    ],
    [
      'a Vercel AI SDK result',
      {
        text: 'ok',
        usage: { inputTokens: 8, outputTokens: 2 },
        finishReason: 'stop',
        response: { modelId: 'gpt-4o-mini' },
      },
      {
        'gen_ai.usage.input_tokens': 8,
        'gen_ai.usage.output_tokens': 2,
        'gen_ai.response.model': 'gpt-4o-mini',
        'gen_ai.response.finish_reasons': ['stop'],
      },
    ],
  ])('reads tokens and the response model from %s', async (_, result, expected) => {
    expect(await traceModelCall(spec, async () => result)).toBe(result);
    const { attributes } = t.span('chat gpt-4o');
    expect(attributes).toMatchObject(expected);
    const usageKeys = Object.keys(attributes).filter(
      (k) => k.startsWith('gen_ai.usage.') || k.startsWith('gen_ai.response.'),
    );
    expect(usageKeys.sort()).toEqual(Object.keys(expected).sort());
  });

  it('uses the extract function for results of another shape, including a reported cost', async () => {
    await traceModelCall(
      { taskType: 'summarize', provider: 'acme', model: 'acme-1', operation: 'text_completion' },
      async () => ({ tokensIn: 11, tokensOut: 4, price: 0.002 }),
      (r) => ({ inputTokens: r.tokensIn, outputTokens: r.tokensOut, costUsd: r.price }),
    );
    expect(t.span('text_completion acme-1').attributes).toMatchObject({
      'gen_ai.operation.name': 'text_completion',
      'gen_ai.usage.input_tokens': 11,
      'gen_ai.usage.output_tokens': 4,
      'agentrace.cost.usd': 0.002,
    });
  });

  it('records no usage from a result of an unknown shape', async () => {
    await traceModelCall(spec, async () => 'just text');
    expect(
      Object.keys(t.span('chat gpt-4o').attributes).filter((k) => k.startsWith('gen_ai.usage.')),
    ).toEqual([]);
  });

  it.each([
    ['returns invalid usage', () => ({ inputTokens: -1 }), /extracted usage is invalid.*inputTokens/],
    [
      'throws',
      () => {
        throw new Error('extractor bug');
      },
      /could not record the result/,
    ],
  ])('keeps the result and reports through diag when extract %s', async (_, extract, diagnostic) => {
    expect(await traceModelCall(spec, async () => 'answer', extract)).toBe('answer');
    const call = t.span('chat gpt-4o');
    expect(call.status.code).toBe(SpanStatusCode.UNSET);
    expect(call.attributes['gen_ai.usage.input_tokens']).toBeUndefined();
    expect(t.diagnostics.map((d) => d.message)).toEqual([expect.stringMatching(diagnostic)]);
  });

  it.each([
    ['throws before the provider returned anything', 'throw', new TypeError('fetch failed'), 'TypeError'],
    [
      'rejects',
      'reject',
      Object.assign(new Error('upstream timed out'), { name: 'TimeoutError' }),
      'timeout',
    ],
    ['rejects with a 403', 'reject', Object.assign(new Error('forbidden'), { status: 403 }), 'permission'],
  ] as const)(
    'records a call that %s as failed and re-throws the same error',
    async (_, how, failure, errorType) => {
      const fn = () => {
        if (how === 'throw') throw failure;
        return Promise.reject(failure);
      };
      await expect((async () => traceModelCall(spec, fn))()).rejects.toBe(failure);
      const call = t.span('chat gpt-4o');
      expect(call.status).toEqual({ code: SpanStatusCode.ERROR, message: failure.message });
      expect(call.attributes['error.type']).toBe(errorType);
      expect(call.events.map((e) => e.name)).toEqual(['exception']);
      expect(call.attributes['gen_ai.usage.input_tokens']).toBeUndefined();
    },
  );

  it('rejects an unknown task type at the call site, before calling the provider', () => {
    let called = false;
    expect(() =>
      traceModelCall({ ...spec, taskType: 'coaching' }, async () => {
        called = true;
      }),
    ).toThrow(/unknown task type "coaching"; known: coach, safety, .*registerTaskType\("coaching"\)/);
    expect(called).toBe(false);
    expect(t.spans()).toHaveLength(0);
  });

  it('accepts a task type once it is registered, and refuses to register a malformed one', async () => {
    registerTaskType('translate');
    await traceModelCall({ ...spec, taskType: 'translate' }, async () => 'hallo');
    expect(t.span('chat gpt-4o').attributes['agentrace.task.type']).toBe('translate');
    expect(() => registerTaskType('Not A Name')).toThrow(/registerTaskType\(\): \(value\): a lowercase name/);
  });
});
