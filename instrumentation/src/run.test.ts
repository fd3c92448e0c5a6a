import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { run } from './run.ts';
import { step } from './step.ts';
import { useMemoryTracing } from './testing/memory-tracing.ts';

const t = useMemoryTracing();

describe('run()', () => {
  it('records a root span with the agent, role, session, user, tags and explicit run id', async () => {
    const result = await run(
      'answer question',
      {
        agent: 'researcher',
        role: 'analyst',
        sessionId: 'session-7',
        userId: 'user-3',
        tags: { env: 'dev', attempt: 2, cached: false },
        runId: '6f1c2a52-8d9e-4c34-9b1a-0c0f5a7e2b11',
      },
      async ({ traceId, runId }) => `${traceId}/${runId}`,
    );
    const root = t.span('answer question');
    expect(result).toBe(`${root.spanContext().traceId}/6f1c2a52-8d9e-4c34-9b1a-0c0f5a7e2b11`);
    expect(root.parentSpanContext).toBeUndefined();
    expect(root.kind).toBe(SpanKind.INTERNAL);
    expect(root.attributes).toEqual({
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': 'researcher',
      'agentrace.run.name': 'answer question',
      'agentrace.run.id': '6f1c2a52-8d9e-4c34-9b1a-0c0f5a7e2b11',
      'agentrace.agent.role': 'analyst',
      'gen_ai.conversation.id': 'session-7',
      'user.id': 'user-3',
      'agentrace.run.tags.env': 'dev',
      'agentrace.run.tags.attempt': '2',
      'agentrace.run.tags.cached': 'false',
    });
    expect(root.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('names the agent after the run when no agent is given, and sets nothing it was not given', () => {
    run('nightly-triage', {}, () => undefined);
    expect(t.span('nightly-triage').attributes).toEqual({
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': 'nightly-triage',
      'agentrace.run.name': 'nightly-triage',
    });
  });

  it('passes the run id and the agent on to every span inside, across awaits', async () => {
    await run('episode', { agent: 'planner', runId: 'run-42' }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      await step('chain', 'plan', async () => {
        await Promise.resolve();
        step('retrieval', 'lookup', () => undefined);
      });
    });
    const root = t.span('episode');
    const plan = t.span('plan');
    const lookup = t.span('lookup');
    expect(plan.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(lookup.parentSpanContext?.spanId).toBe(plan.spanContext().spanId);
    for (const child of [plan, lookup]) {
      expect(child.spanContext().traceId).toBe(root.spanContext().traceId);
      expect(child.attributes).toMatchObject({
        'agentrace.run.id': 'run-42',
        'gen_ai.agent.name': 'planner',
      });
    }
  });

  it('starts a run inside another run as a new trace linked to the span it was started from', () => {
    run('outer', {}, () => {
      step('chain', 'dispatch', () => run('inner', { agent: 'helper' }, () => undefined));
    });
    const dispatch = t.span('dispatch');
    const inner = t.span('inner');
    expect(inner.parentSpanContext).toBeUndefined();
    expect(inner.spanContext().traceId).not.toBe(dispatch.spanContext().traceId);
    expect(inner.links.map((l) => l.context.spanId)).toEqual([dispatch.spanContext().spanId]);
    expect(inner.attributes['gen_ai.agent.name']).toBe('helper');
  });

  it('records a failure of the run and re-throws the very same error', async () => {
    const failure = new RangeError('budget exhausted');
    await expect(run('doomed', {}, async () => Promise.reject(failure))).rejects.toBe(failure);
    const root = t.span('doomed');
    expect(root.status).toEqual({ code: SpanStatusCode.ERROR, message: 'budget exhausted' });
    expect(root.attributes['error.type']).toBe('RangeError');
    expect(
      root.events.map((e) => [e.name, e.attributes?.['exception.type'], e.attributes?.['exception.message']]),
    ).toEqual([['exception', 'RangeError', 'budget exhausted']]);
    expect(root.ended).toBe(true);
  });

  it.each([
    ['an empty name', '', {}],
    ['an unknown option', 'r', { agnet: 'typo' }],
    ['a non-string tag key value', 'r', { tags: { env: { nested: true } } }],
  ])('rejects %s at the call site, before running anything', (_, name, options) => {
    let ran = false;
    expect(() =>
      run(name, options as never, () => {
        ran = true;
      }),
    ).toThrow(/^agentrace run\(\): /);
    expect(ran).toBe(false);
    expect(t.spans()).toHaveLength(0);
  });

  it('leaves no span active once it is over', async () => {
    await run('short', {}, async () => undefined);
    expect(trace.getActiveSpan()).toBeUndefined();
  });
});
