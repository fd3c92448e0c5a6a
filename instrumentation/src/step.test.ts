import { StepType } from '@agentrace/schemas';
import { SpanStatusCode } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { InvocationError } from './invocation-error.ts';
import { run } from './run.ts';
import { step } from './step.ts';
import { useMemoryTracing } from './testing/memory-tracing.ts';
import { traceTool } from './tool.ts';

const t = useMemoryTracing();

describe('step()', () => {
  it.each(StepType.options.filter((type) => type !== 'agent'))(
    'records a %s step as a child of the run',
    (type) => {
      run('r', { agent: 'worker' }, () => step(type, `a ${type} step`, () => undefined));
      const s = t.span(`a ${type} step`);
      expect(s.parentSpanContext?.spanId).toBe(t.span('r').spanContext().spanId);
      expect(s.attributes).toEqual({ 'agentrace.step.type': type, 'gen_ai.agent.name': 'worker' });
    },
  );

  it('records an agent step as a sub-agent invoked by the enclosing agent, owning the calls inside', () => {
    run('r', { agent: 'lead' }, () =>
      step('agent', 'summarizer', () => traceTool('read_notes', () => 'notes')),
    );
    expect(t.span('summarizer').attributes).toEqual({
      'agentrace.step.type': 'agent',
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': 'summarizer',
      'agentrace.invoker.id': 'lead',
    });
    expect(t.span('execute_tool read_notes').attributes['gen_ai.agent.name']).toBe('summarizer');
  });

  it('returns the value of a synchronous function synchronously, with the span already ended', () => {
    const value = step('chain', 'sync', () => 41 + 1);
    expect(value).toBe(42);
    expect(t.span('sync').ended).toBe(true);
  });

  it('ends the span of an async function only when its promise settles', async () => {
    let release!: () => void;
    const pending = step('chain', 'slow', () => new Promise<void>((resolve) => (release = resolve)));
    expect(t.spans()).toHaveLength(0);
    release();
    await pending;
    expect(t.span('slow').ended).toBe(true);
  });

  it('puts the tick on the step and on every span inside it, and own attributes on the step', () => {
    step('chain', 'tick 3', () => traceTool('market', () => undefined), {
      tick: 3,
      attributes: { 'world.size': 9 },
    });
    expect(t.span('tick 3').attributes).toMatchObject({ 'agentrace.tick': 3, 'world.size': 9 });
    expect(t.span('execute_tool market').attributes['agentrace.tick']).toBe(3);
  });

  it.each([
    ['a thrown Error', new TypeError('bad plan'), 'TypeError', 'bad plan'],
    ['a thrown string', 'plain failure', '_OTHER', 'plain failure'],
    ['an InvocationError', new InvocationError('timeout', 'took too long'), 'timeout', 'took too long'],
  ])('records %s and re-throws it unchanged', (_, thrown, errorType, message) => {
    let caught: unknown;
    try {
      step('chain', 'failing', () => {
        throw thrown;
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBe(thrown);
    const s = t.span('failing');
    expect(s.status).toEqual({ code: SpanStatusCode.ERROR, message });
    expect(s.attributes['error.type']).toBe(errorType);
    expect(s.events.map((e) => e.name)).toEqual(['exception']);
    expect(s.events[0]!.attributes?.['exception.message']).toBe(message);
  });

  it('rejects an unknown step type at the call site, naming the known ones', () => {
    expect(() => step('banana' as StepType, 'x', () => undefined)).toThrow(/step\(\): type: .*"agent"/);
    expect(t.spans()).toHaveLength(0);
  });
});
