import { defined } from '../attribute-readers.ts';
import type { Mapped, Mapper, SpanView } from '../mapped.ts';
import { agentraceMapper } from './agentrace.ts';
import { genAiMapper } from './genai.ts';
import { langfuseMapper } from './langfuse.ts';
import { openInferenceMapper } from './openinference.ts';
import { openLlmetryMapper } from './openllmetry.ts';
import { plainOtelMapper } from './plain-otel.ts';
import { sessionUserMapper } from './session-user.ts';
import { vercelAiMapper } from './vercel-ai.ts';

/**
 * Conventions in priority order (DESIGN §4, semconv-mapping.md §7): ours first, plain OTel last. Session
 * and user are read by one mapper across all conventions, as only it gives them.
 */
export const MAPPERS: readonly Mapper[] = [
  agentraceMapper,
  langfuseMapper,
  openInferenceMapper,
  genAiMapper,
  openLlmetryMapper,
  vercelAiMapper,
  sessionUserMapper,
  plainOtelMapper,
];

/** Runs every mapper; for each field the first mapper that gives it wins. */
export function mapSpan(span: SpanView, mappers: readonly Mapper[] = MAPPERS): Partial<Mapped> {
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
