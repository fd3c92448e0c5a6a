import type { AgentEvent } from '@agentrace/schemas';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { attachArtifact } from './artifact.ts';
import { getInstrumentationStats } from './invalid-input.ts';
import { logEvent } from './log-event.ts';
import { run } from './run.ts';
import { step } from './step.ts';
import { useMemoryTracing } from './testing/memory-tracing.ts';
import { thought } from './thought.ts';

const t = useMemoryTracing();
afterEach(() => {
  vi.unstubAllEnvs();
});

const SHA = 'ab'.repeat(32);

describe('thought()', () => {
  it('records a thought step with its text, in the run of its agent', () => {
    run('r', { agent: 'planner', runId: 'run-9' }, () => thought('Search first, then answer.'));
    const s = t.span('thought');
    expect(s.parentSpanContext?.spanId).toBe(t.span('r').spanContext().spanId);
    expect(s.attributes).toEqual({
      'agentrace.step.type': 'thought',
      'agentrace.thought.text': 'Search first, then answer.',
      'agentrace.run.id': 'run-9',
      'gen_ai.agent.name': 'planner',
    });
  });
});

describe('attachArtifact()', () => {
  it('records an artifact step with the file reference', () => {
    step('tool', 'write report', () =>
      attachArtifact({
        uri: 'file:///tmp/out/report.md',
        mediaType: 'text/markdown',
        size: 1234,
        sha256: SHA.toUpperCase(),
      }),
    );
    const s = t.span('artifact report.md');
    expect(s.parentSpanContext?.spanId).toBe(t.span('write report').spanContext().spanId);
    expect(s.attributes).toEqual({
      'agentrace.step.type': 'artifact',
      'agentrace.artifact.uri': 'file:///tmp/out/report.md',
      'agentrace.artifact.name': 'report.md',
      'agentrace.artifact.media_type': 'text/markdown',
      'agentrace.artifact.size': 1234,
      'agentrace.artifact.sha256': SHA,
    });
  });
});

describe('logEvent()', () => {
  const valid: [AgentEvent, Record<string, unknown>][] = [
    [
      { type: 'message', role: 'user', content: 'find sources' },
      { 'agentrace.event.role': 'user', 'agentrace.event.content': 'find sources' },
    ],
    [
      { type: 'decision', choice: 'search', reason: 'no sources yet', alternatives: ['answer', 'ask'] },
      {
        'agentrace.event.choice': 'search',
        'agentrace.event.reason': 'no sources yet',
        'agentrace.event.alternatives': ['answer', 'ask'],
      },
    ],
    [
      { type: 'observation', source: 'search', content: '3 hits' },
      { 'agentrace.event.source': 'search', 'agentrace.event.content': '3 hits' },
    ],
    [
      { type: 'metric', name: 'relevance', value: 0.82, unit: '1' },
      { 'agentrace.event.name': 'relevance', 'agentrace.event.value': 0.82, 'agentrace.event.unit': '1' },
    ],
    [
      { type: 'feedback', score: 1, comment: 'great' },
      { 'agentrace.event.score': 1, 'agentrace.event.comment': 'great' },
    ],
    [
      { type: 'custom', name: 'cache', data: { hit: true, keys: [1, 2] } },
      { 'agentrace.event.name': 'cache', 'agentrace.event.data': '{"hit":true,"keys":[1,2]}' },
    ],
  ];

  it.each(valid.map(([event, attributes]) => [event.type, event, attributes] as const))(
    'emits a valid %s event on the current step',
    (_, event, attributes) => {
      step('chain', 'work', () => logEvent(event));
      const events = t.span('work').events;
      expect(events.map((e) => [e.name, e.attributes])).toEqual([
        [`agentrace.event.${event.type}`, attributes],
      ]);
    },
  );

  const invalid = [
    ['an unknown type', { type: 'mood', value: 'happy' }, /invalid input: type: /],
    [
      'a misspelt field',
      { type: 'decision', choise: 'search' },
      /choice: .*; \(value\): Unrecognized key: "choise"/,
    ],
    ['a score out of range', { type: 'feedback', score: 7 }, /score: Too big/],
  ] as const;

  it.each(invalid)('throws a clear TypeError for %s outside production', (_, event, message) => {
    vi.stubEnv('NODE_ENV', 'development');
    expect(() => step('chain', 'work', () => logEvent(event as never))).toThrow(message);
    expect(() => step('chain', 'work', () => logEvent(event as never))).toThrow(/^agentrace logEvent\(\): /);
  });

  it.each(invalid)('drops %s in production, counts it and reports it through diag', (_, event, message) => {
    vi.stubEnv('NODE_ENV', 'production');
    const before = getInstrumentationStats().droppedInvalidInputs;
    const outcome = step('chain', 'work', () => {
      logEvent(event as never);
      return 'agent goes on';
    });
    expect(outcome).toBe('agent goes on');
    expect(t.span('work').events).toEqual([]);
    expect(getInstrumentationStats().droppedInvalidInputs).toBe(before + 1);
    expect(t.diagnostics).toEqual([{ level: 'error', message: expect.stringMatching(message) }]);
    expect(t.diagnostics[0]!.message).toMatch(`${before + 1} dropped so far`);
  });

  it('drops invalid thoughts and artifacts under the same rule', () => {
    vi.stubEnv('NODE_ENV', 'production');
    const before = getInstrumentationStats().droppedInvalidInputs;
    thought(42 as never);
    attachArtifact({ uri: 'file:///x', sha256: 'not-a-hash' });
    expect(t.spans()).toEqual([]);
    expect(getInstrumentationStats().droppedInvalidInputs).toBe(before + 2);
    vi.stubEnv('NODE_ENV', 'test');
    expect(() => attachArtifact({ uri: 'file:///x', size: -1 })).toThrow(
      /attachArtifact\(\): invalid input: size/,
    );
  });

  it('reports an event logged outside any step through diag instead of failing', () => {
    logEvent({ type: 'metric', name: 'latency', value: 3 });
    expect(t.diagnostics).toEqual([
      { level: 'warn', message: expect.stringMatching(/no step is active, the metric event/) },
    ]);
  });
});
