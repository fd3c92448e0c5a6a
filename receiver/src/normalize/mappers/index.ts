import type { Mapped, Mapper, SpanView } from '../mapped.ts';
import { agentraceMapper } from './agentrace.ts';
import { genAiMapper } from './genai.ts';
import { plainOtelMapper } from './plain-otel.ts';

/** Conventions in priority order (DESIGN §4): ours first, plain OTel last. */
export const MAPPERS: readonly Mapper[] = [agentraceMapper, genAiMapper, plainOtelMapper];

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
  return out;
}
