import { AGENTRACE, GEN_AI } from '@agentrace/schemas';
import type { Span } from '@opentelemetry/api';
import { z } from 'zod';
import { currentScope, inheritedAttributes } from './agent-scope.ts';
import { parseArguments } from './call-site.ts';
import { errorTypeOf } from './invocation-error.ts';
import { jsonAttribute } from './json-attribute.ts';
import { traced } from './traced.ts';

const ToolArguments = z.object({
  name: z.string().min(1),
  options: z
    .strictObject({
      /** The artifact invoked (a contract, a service): makes this an artifact invocation (`agentrace.artifact.id`). */
      artifactId: z.string().min(1).optional(),
      /** The method called on the tool or artifact (`agentrace.invocation.method`). */
      method: z.string().min(1).optional(),
      /** Who invoked it (`agentrace.invoker.id`); the enclosing agent when not given. */
      invoker: z.string().min(1).optional(),
      /** The call's arguments, recorded as JSON (`gen_ai.tool.call.arguments`). */
      args: z.unknown().optional(),
    })
    .default({}),
});
/**
 * The options of `traceTool()`.
 * @example const options: ToolOptions = { artifactId: 'service:price-oracle', method: 'quote', invoker: 'buyer-1' };
 */
export type ToolOptions = z.input<typeof ToolArguments>['options'];

/**
 * Records one tool or artifact invocation: a span `execute_tool <name>` (`gen_ai.tool.name`) around `fn`,
 * with the artifact id, the method and the invoker when given. A failure is recorded and re-thrown; its
 * `error.type` is one of `timeout`, `validation`, `permission` (see `errorTypeOf`, or throw an
 * `InvocationError`) and else `execution`.
 * @example
 * const hits = await traceTool('search', () => search(query), { args: { query } });
 * await traceTool('escrow', () => escrow.release(orderId), {
 *   artifactId: 'contract:escrow-v2', method: 'release', invoker: 'buyer-7',
 * });
 */
export function traceTool<T>(name: string, fn: (span: Span) => T, options?: ToolOptions): T {
  const { name: toolName, options: o } = parseArguments('traceTool', ToolArguments, { name, options });
  const scope = currentScope();
  return traced(
    {
      name: `execute_tool ${toolName}`,
      attributes: {
        ...inheritedAttributes(scope),
        [GEN_AI.operationName]: 'execute_tool',
        [GEN_AI.toolName]: toolName,
        [GEN_AI.toolCallArguments]: jsonAttribute(o.args),
        [AGENTRACE.artifactId]: o.artifactId,
        [AGENTRACE.invocationMethod]: o.method,
        [AGENTRACE.invokerId]: o.invoker,
      },
      scope,
      errorType: (error) => errorTypeOf(error) ?? 'execution',
    },
    fn,
  );
}
