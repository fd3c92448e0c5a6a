import { AGENTRACE } from '@agentrace/schemas';
import { z } from 'zod';
import { currentScope, inheritedAttributes } from './agent-scope.ts';
import { validateInput } from './invalid-input.ts';
import { traced } from './traced.ts';

/**
 * Records a thought of the current agent (its reasoning, a plan, a reflection) as a `thought` step with
 * the text in `agentrace.thought.text`, in order among the other steps.
 * @example thought('The user asks for sources; search before answering.');
 */
export function thought(text: string): void {
  const valid = validateInput('thought', z.string(), text);
  if (valid === undefined) return;
  const scope = currentScope();
  traced(
    {
      name: 'thought',
      attributes: {
        ...inheritedAttributes(scope),
        [AGENTRACE.stepType]: 'thought',
        [AGENTRACE.thoughtText]: valid,
      },
      scope,
    },
    () => undefined,
  );
}
