import { AGENTRACE, GEN_AI, OTEL } from '@agentrace/schemas';
import { describe, expect, it } from 'vitest';
import type { AttrValue, Attributes } from '../../otlp/decoded.ts';
import type { SpanView } from '../mapped.ts';
import { agentraceMapper } from './agentrace.ts';
import { genAiMapper } from './genai.ts';
import { CONVENTIONS, MAPPERS, mapSpan, mapSpanWith } from './index.ts';
import { LANGFUSE } from './langfuse.ts';
import { OPENINFERENCE, openInferenceMapper } from './openinference.ts';
import { openLlmetryMapper, TRACELOOP } from './openllmetry.ts';
import { plainOtelMapper } from './plain-otel.ts';
import { sessionUserMapper } from './session-user.ts';
import { AI_SDK, vercelAiMapper } from './vercel-ai.ts';
import { ConventionFilter } from './which-conventions.ts';

// Every key a convention reads, some under their list prefixes, and values that make mappers speak.
const KEYS: string[] = [AGENTRACE, GEN_AI, OTEL, LANGFUSE, OPENINFERENCE, TRACELOOP, AI_SDK].flatMap((c) =>
  Object.values(c),
);
KEYS.push(
  'agentrace.run.tags.env',
  'llm.input_messages.0.message.role',
  'llm.output_messages.0.message.content',
  'gen_ai.prompt.0.content',
  'gen_ai.completion.0.role',
  'traceloop.association.properties.session_id',
  'ai.telemetry.metadata.userId',
  'http.method',
);
const VALUES: AttrValue[] = [
  'chat',
  'execute_tool',
  'invoke_agent',
  'agent_step',
  'execute_task',
  'ai.generateText.doGenerate',
  'ai.toolCall',
  'LLM',
  'AGENT',
  'tool',
  'agent',
  'generation',
  'ERROR',
  'openai',
  'azure',
  'gpt-4o',
  'text/plain',
  '{"role":"user","content":"hi"}',
  '[{"a":1}]',
  '',
  12,
  0.5,
  true,
  ['x', 'y'],
  { input: 3, output: 4 },
];

/** A deterministic pseudo-random sequence (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('mapSpan', () => {
  it('gives what running every mapper gives, on spans of every convention and mixes of them', () => {
    const next = random(42);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
    const names = ['chat gpt-4o', 'execute_tool search', 'invoke_agent planner', 'GET /users', ''];
    let withAttributes = 0;
    for (let n = 0; n < 3000; n++) {
      const attributes: Attributes = {};
      const size = Math.floor(next() * 8);
      for (let k = 0; k < size; k++) attributes[pick(KEYS)] = pick(VALUES);
      const span: SpanView = {
        name: pick(names),
        kind: 1,
        attributes,
        resource: { 'service.name': 'svc', 'session.id': 's-1' },
        scopeName: 'scope',
        events: [],
      };
      expect(mapSpan(span), JSON.stringify(attributes)).toEqual(mapSpanWith(span, MAPPERS));
      // Key order too: it decides the order of redaction_meta's paths.
      expect(Object.keys(mapSpan(span))).toEqual(Object.keys(mapSpanWith(span, MAPPERS)));
      if (size > 0) withAttributes++;
    }
    expect(withAttributes).toBeGreaterThan(2000);
  });
});

describe('ConventionFilter', () => {
  it('skips the conventions none of whose namespaces a span uses', () => {
    const filter = new ConventionFilter(CONVENTIONS);
    const genAi = { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'server.port': 443 };
    expect(filter.mappersFor(genAi)).toEqual([
      genAiMapper,
      openLlmetryMapper,
      vercelAiMapper,
      sessionUserMapper,
      plainOtelMapper,
    ]);
    expect(filter.mappersFor({ 'llm.model_name': 'gpt-4o' })).toContain(openInferenceMapper);
    expect(filter.mappersFor({ 'agentrace.run.tags.env': 'prod' })).toContain(agentraceMapper);
    expect(filter.mappersFor({})).toEqual([genAiMapper, sessionUserMapper, plainOtelMapper]);
  });
});
