import { diag } from '@opentelemetry/api';
import type { z } from 'zod';
import { describeIssues } from './call-site.ts';

let droppedInvalidInputs = 0;

const isProduction = () => globalThis.process?.env?.NODE_ENV === 'production';

/**
 * Validates data an agent records at run time (events, thoughts, artifacts). Outside production
 * (`NODE_ENV` is not `production`) an invalid value throws a TypeError at the call, so it is fixed early; in
 * production it is dropped, counted and reported through OTel `diag`, and the agent goes on.
 */
export function validateInput<S extends z.ZodType>(
  helper: string,
  schema: S,
  value: unknown,
): z.infer<S> | undefined {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const message = `agentrace ${helper}(): invalid input: ${describeIssues(parsed.error)}`;
  if (!isProduction()) throw new TypeError(message);
  droppedInvalidInputs += 1;
  diag.error(`${message} (not recorded; ${droppedInvalidInputs} dropped so far)`);
  return undefined;
}

/**
 * Counters of the instrumentation itself: `droppedInvalidInputs` counts the invalid events, thoughts and
 * artifacts dropped in production.
 * @example if (getInstrumentationStats().droppedInvalidInputs > 0) alert('agent logs invalid events');
 */
export function getInstrumentationStats(): { droppedInvalidInputs: number } {
  return { droppedInvalidInputs };
}
