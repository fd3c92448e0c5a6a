import { AGENTRACE, GEN_AI } from '@agentrace/schemas';
import { defined } from '../attribute-readers.ts';
import type { Mapped, Mapper, SpanView } from '../mapped.ts';
import { agentraceMapper } from './agentrace.ts';
import { genAiMapper } from './genai.ts';
import { LANGFUSE, langfuseMapper } from './langfuse.ts';
import { OPENINFERENCE, openInferenceMapper } from './openinference.ts';
import { openLlmetryMapper, TRACELOOP } from './openllmetry.ts';
import { plainOtelMapper } from './plain-otel.ts';
import { sessionUserMapper } from './session-user.ts';
import { AI_SDK, vercelAiMapper } from './vercel-ai.ts';
import { type Convention, ConventionFilter } from './which-conventions.ts';

/**
 * Conventions in priority order (DESIGN §4, semconv-mapping.md §7): ours first, plain OTel last. Session
 * and user are read by one mapper across all conventions, as only it gives them. A convention that reads
 * nothing but attributes names the keys it reads, so it is skipped on spans with none of them.
 */
export const CONVENTIONS: readonly Convention[] = [
  { map: agentraceMapper, keys: Object.values(AGENTRACE) },
  { map: langfuseMapper, keys: Object.values(LANGFUSE) },
  { map: openInferenceMapper, keys: Object.values(OPENINFERENCE) },
  { map: genAiMapper },
  { map: openLlmetryMapper, keys: [...Object.values(TRACELOOP), GEN_AI.operationName] },
  { map: vercelAiMapper, keys: [...Object.values(AI_SDK), GEN_AI.operationName] },
  { map: sessionUserMapper },
  { map: plainOtelMapper },
];

export const MAPPERS: readonly Mapper[] = CONVENTIONS.map((c) => c.map);
const filter = new ConventionFilter(CONVENTIONS);

/**
 * For each field the first convention that gives it wins. Only the conventions that may say something of
 * the span run: the same result as running every mapper (tested), for a third less mapping time.
 */
export function mapSpan(span: SpanView): Partial<Mapped> {
  return mapSpanWith(span, filter.mappersFor(span.attributes));
}

/** Runs every one of `mappers`; for each field the first mapper that gives it wins. */
export function mapSpanWith(span: SpanView, mappers: readonly Mapper[]): Partial<Mapped> {
  const out: Partial<Mapped> = {};
  for (const mapper of mappers) {
    const fields = mapper(span);
    for (const key in fields) {
      const k = key as keyof Mapped;
      if (out[k] === undefined) (out as Record<string, unknown>)[k] = fields[k];
    }
  }
  return settleAgent(out);
}

/**
 * Whether a span is an agent is known only once every convention has had its say, so an agent name given
 * by one is settled here: on an agent span it names that agent; on any other span it is only the agent
 * in whose context the span runs (SDKs copy `gen_ai.agent.name` onto descendants), never a reason to
 * call the span an agent.
 */
function settleAgent(m: Partial<Mapped>): Partial<Mapped> {
  const { agentName, contextAgentName, ...rest } = m;
  if (m.type === 'agent') return { ...rest, ...defined({ agentName: agentName ?? contextAgentName }) };
  return { ...rest, ...defined({ contextAgentName: contextAgentName ?? agentName }) };
}
