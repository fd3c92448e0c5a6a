import { AGENTRACE, GEN_AI, StepType } from '@agentrace/schemas';
import type { AttributeValue, Span } from '@opentelemetry/api';
import { z } from 'zod';
import { currentScope, inheritedAttributes } from './agent-scope.ts';
import { parseArguments } from './call-site.ts';
import { traced } from './traced.ts';

const StepArguments = z.object({
  type: StepType,
  name: z.string().min(1),
  options: z
    .strictObject({
      /** The simulation tick this step runs in (`agentrace.tick`), inherited by the spans inside it. */
      tick: z.number().int().nonnegative().optional(),
      /** Attributes of your own. */
      attributes: z.record(z.string(), z.custom<AttributeValue>()).optional(),
    })
    .default({}),
});
/**
 * The options of `step()`.
 * @example const options: StepOptions = { tick: 12, attributes: { 'world.agents': 3 } };
 */
export type StepOptions = z.input<typeof StepArguments>['options'];

/**
 * Records one step of the current run: a child span of type `type` (`agentrace.step.type`) named `name`
 * around `fn`, ended when `fn` returns or its promise settles; a failure is recorded and re-thrown. A step
 * of type `agent` is a sub-agent (`invoke_agent`, `gen_ai.agent.name` = `name`, invoked by the enclosing
 * agent): the calls inside it are its own.
 * @example
 * const plan = await step('chain', 'plan', async () => planner.plan(goal));
 * await step('agent', 'summarizer', () => summarize(findings));
 * for (let tick = 0; tick < 10; tick++) await step('chain', `tick ${tick}`, () => world.advance(), { tick });
 */
export function step<T>(type: StepType, name: string, fn: (span: Span) => T, options?: StepOptions): T {
  const args = parseArguments('step', StepArguments, { type, name, options });
  const scope = currentScope();
  const isAgent = args.type === 'agent';
  const tick = args.options.tick ?? scope.tick;
  return traced(
    {
      name: args.name,
      attributes: {
        ...inheritedAttributes(scope),
        ...args.options.attributes,
        [AGENTRACE.stepType]: args.type,
        [AGENTRACE.tick]: tick,
        ...(isAgent && {
          [GEN_AI.operationName]: 'invoke_agent',
          [GEN_AI.agentName]: args.name,
          [AGENTRACE.invokerId]: scope.agentName,
        }),
      },
      scope: { ...scope, tick, agentName: isAgent ? args.name : scope.agentName },
    },
    fn,
  );
}
