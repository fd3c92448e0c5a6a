import { AGENTRACE, GEN_AI } from '@agentrace/schemas';
import { type Attributes, type Context, context, createContextKey } from '@opentelemetry/api';

/** What the spans inside a run inherit from their enclosing run, agent and tick. */
export interface AgentScope {
  /** The explicit run id, which API.md wants on every span of the run. */
  runId?: string;
  /** The agent whose work this is: it becomes the invoker of the model and tool calls made inside. */
  agentName?: string;
  tick?: number;
  /** The enclosing run's name and tags, which the policy gate declares the run with (see guard-tool.ts). */
  run?: { name: string; tags: Record<string, string> };
}

const SCOPE_KEY = createContextKey('agentrace.agent-scope');

export function currentScope(ctx: Context = context.active()): AgentScope {
  return (ctx.getValue(SCOPE_KEY) as AgentScope | undefined) ?? {};
}

export function withScope(ctx: Context, scope: AgentScope): Context {
  return ctx.setValue(SCOPE_KEY, scope);
}

/**
 * The attributes a span inherits from its scope. The agent goes in `gen_ai.agent.name`, which on a span
 * that is not an agent span means "inside this agent" (semconv-mapping.md §7); an agent's own span
 * overrides it with its own name.
 */
export function inheritedAttributes(scope: AgentScope): Attributes {
  const attributes: Attributes = {};
  if (scope.runId !== undefined) attributes[AGENTRACE.runId] = scope.runId;
  if (scope.agentName !== undefined) attributes[GEN_AI.agentName] = scope.agentName;
  if (scope.tick !== undefined) attributes[AGENTRACE.tick] = scope.tick;
  return attributes;
}
