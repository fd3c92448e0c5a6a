import { SpanStatusCode } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InvocationError } from './invocation-error.ts';
import { run } from './run.ts';
import { useMemoryTracing } from './testing/memory-tracing.ts';
import { traceTool } from './tool.ts';

const t = useMemoryTracing();

describe('traceTool()', () => {
  it('records a tool invocation by the enclosing agent, with its arguments', async () => {
    const hits = await run('r', { agent: 'researcher' }, () =>
      traceTool('search', async () => ['a', 'b'], { args: { query: 'otel genai', limit: 2 } }),
    );
    expect(hits).toEqual(['a', 'b']);
    const call = t.span('execute_tool search');
    expect(call.parentSpanContext?.spanId).toBe(t.span('r').spanContext().spanId);
    expect(call.attributes).toEqual({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'search',
      'gen_ai.tool.call.arguments': '{"query":"otel genai","limit":2}',
      'gen_ai.agent.name': 'researcher',
    });
  });

  it('records an artifact invocation with its id, method and explicit invoker', () => {
    traceTool('escrow', () => 'released', {
      artifactId: 'contract:escrow-v2',
      method: 'release',
      invoker: 'buyer-7',
    });
    expect(t.span('execute_tool escrow').attributes).toEqual({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'escrow',
      'agentrace.artifact.id': 'contract:escrow-v2',
      'agentrace.invocation.method': 'release',
      'agentrace.invoker.id': 'buyer-7',
    });
  });

  it('reports arguments that cannot be serialized through diag and still runs the tool', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(traceTool('loop', () => 'ran', { args: circular })).toBe('ran');
    expect(t.span('execute_tool loop').attributes['gen_ai.tool.call.arguments']).toBeUndefined();
    expect(t.diagnostics.map((d) => d.message)).toEqual([expect.stringMatching(/could not be serialized/)]);
  });

  const zodFailure = (() => {
    const r = z.object({ amount: z.number().positive() }).safeParse({ amount: -5 });
    return r.success ? null : r.error;
  })()!;

  it.each([
    ['an InvocationError("timeout")', 'timeout', new InvocationError('timeout', 'no answer in 2000 ms')],
    [
      'an AbortSignal.timeout() abort',
      'timeout',
      new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
    ],
    [
      'an ETIMEDOUT network error',
      'timeout',
      Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' }),
    ],
    [
      'an InvocationError("validation")',
      'validation',
      new InvocationError('validation', 'amount must be positive'),
    ],
    ['a ZodError', 'validation', zodFailure],
    [
      'an InvocationError("permission")',
      'permission',
      new InvocationError('permission', 'caller is not the owner'),
    ],
    [
      'an EACCES error',
      'permission',
      Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' }),
    ],
    ['an HTTP 401', 'permission', Object.assign(new Error('unauthorized'), { status: 401 })],
    ['any other error', 'execution', new Error('division by zero')],
    ['a thrown non-error', 'execution', 'out of gas'],
  ])('records %s with error.type %s and re-throws it', async (_, errorType, failure) => {
    await expect(
      traceTool('transfer', async () => Promise.reject(failure), {
        artifactId: 'contract:ledger',
        method: 'transfer',
      }),
    ).rejects.toBe(failure);
    const call = t.span('execute_tool transfer');
    expect(call.status.code).toBe(SpanStatusCode.ERROR);
    expect(call.attributes['error.type']).toBe(errorType);
    expect(call.events.map((e) => e.name)).toEqual(['exception']);
  });

  it('rejects an unknown option at the call site', () => {
    expect(() => traceTool('x', () => undefined, { artifact: 'typo' } as never)).toThrow(
      /traceTool\(\): options: Unrecognized key/,
    );
    expect(t.spans()).toHaveLength(0);
  });
});
