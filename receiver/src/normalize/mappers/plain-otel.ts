import { OTEL, type StepType } from '@agentrace/schemas';
import { defined, str } from '../attribute-readers.ts';
import type { Mapper } from '../mapped.ts';

/** Span-name patterns of GenAI and MCP spans, for producers that set no operation attribute. */
const NAME_PATTERNS: [RegExp, StepType][] = [
  [/^(chat|text_completion|generate_content) /, 'llm'],
  [/^embeddings( |$)/, 'embedding'],
  [/^(execute_tool|tools\/call) /, 'tool'],
  [/^(invoke_agent|create_agent)( |$)/, 'agent'],
  [/^retrieval( |$)/, 'retrieval'],
  [/^invoke_workflow( |$)/, 'chain'],
];

/**
 * Plain OpenTelemetry: step type from span names and the presence of a tool or model attribute, and
 * `error.type`. Anything else is an `other` step.
 */
export const plainOtelMapper: Mapper = ({ name, attributes: a }) => {
  let type: StepType | undefined = NAME_PATTERNS.find(([pattern]) => pattern.test(name))?.[1];
  if (!type && a['gen_ai.tool.name'] !== undefined) type = 'tool';
  if (!type && (a['gen_ai.request.model'] !== undefined || a['gen_ai.response.model'] !== undefined)) type = 'llm';
  const toolFromName = /^(?:execute_tool|tools\/call) (.+)$/.exec(name)?.[1];
  return defined({
    type: type ?? 'other',
    toolName: type === 'tool' ? toolFromName : undefined,
    errorType: str(a, OTEL.errorType),
  });
};
