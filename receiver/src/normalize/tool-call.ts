import { argsHash, type StepType } from '@agentrace/schemas';
import type { ToolCallFacts } from '@agentrace/store';

/**
 * What the governance binding needs of a tool step: its arguments as sent (`input.arguments`, where both
 * `gen_ai.tool.call.arguments` and a native step's payload put them), before redaction, and their hash,
 * which a DecisionToken must match. Other steps have none.
 */
export function toolCallOf(type: StepType, input: unknown): ToolCallFacts | undefined {
  if (type !== 'tool') return undefined;
  const args =
    input !== null && typeof input === 'object' && !Array.isArray(input)
      ? (input as Record<string, unknown>).arguments
      : undefined;
  return { args, argsSha256: argsHash(args) };
}
