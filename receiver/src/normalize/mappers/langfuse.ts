import type { StepType } from '@agentrace/schemas';
import type { Attributes } from '../../otlp/decoded.ts';
import { defined, num, str, structured, structuredObject } from '../attribute-readers.ts';
import type { Mapper } from '../mapped.ts';

/** Langfuse's own span attributes (langfuse `packages/shared/src/server/otel/attributes.ts`). */
export const LANGFUSE = {
  observationType: 'langfuse.observation.type',
  traceName: 'langfuse.trace.name',
  sessionId: 'langfuse.session.id',
  userId: 'langfuse.user.id',
  input: 'langfuse.observation.input',
  output: 'langfuse.observation.output',
  modelName: 'langfuse.observation.model.name',
  usageDetails: 'langfuse.observation.usage_details',
  costDetails: 'langfuse.observation.cost_details',
  level: 'langfuse.observation.level',
  statusMessage: 'langfuse.observation.status_message',
} as const;

/** `span` and `event` observations say nothing about what the span does: the other conventions decide. */
const OBSERVATION_TYPES: Record<string, StepType> = {
  generation: 'llm',
  embedding: 'embedding',
  agent: 'agent',
  tool: 'tool',
  chain: 'chain',
  retriever: 'retrieval',
  guardrail: 'guardrail',
  evaluator: 'evaluator',
};

/**
 * Langfuse attributes: observation type, trace name, the model, usage and cost details (JSON), input and
 * output, and level ERROR as a failure. Session and user are read with the other conventions'.
 */
export const langfuseMapper: Mapper = ({ attributes: a }) => {
  const usage = structuredObject(a, LANGFUSE.usageDetails);
  const cost = structuredObject(a, LANGFUSE.costDetails);
  const input = structured(a, LANGFUSE.input);
  const output = structured(a, LANGFUSE.output);
  return defined({
    type: OBSERVATION_TYPES[str(a, LANGFUSE.observationType) ?? ''],
    runName: str(a, LANGFUSE.traceName),
    model: str(a, LANGFUSE.modelName),
    inputTokens: usage && num(usage, 'input'),
    outputTokens: usage && num(usage, 'output'),
    reportedCostUsd: cost && (num(cost, 'total') ?? sumOf(cost)),
    failed: str(a, LANGFUSE.level) === 'ERROR' ? true : undefined,
    errorMessage: str(a, LANGFUSE.statusMessage),
    input: input === undefined ? undefined : { value: input },
    output: output === undefined ? undefined : { value: output },
  });
};

/** Langfuse's total when none is given: the sum of the cost details. */
function sumOf(cost: Attributes): number | undefined {
  const values = Object.keys(cost)
    .map((k) => num(cost, k))
    .filter((n) => n !== undefined);
  return values.length > 0 ? values.reduce((x, y) => x + y, 0) : undefined;
}
