import { AGENTRACE, GEN_AI, OTEL } from '@agentrace/schemas';
import { type Link, type Span, trace } from '@opentelemetry/api';
import { z } from 'zod';
import { parseArguments } from './call-site.ts';
import { traced } from './traced.ts';

const RunOptions = z.strictObject({
  /** The agent this run is an episode of (`gen_ai.agent.name`); the run's name when not given. */
  agent: z.string().min(1).optional(),
  /** The agent's role (`agentrace.agent.role`): planner, coder, reviewer... */
  role: z.string().min(1).optional(),
  /** The conversation or session the run belongs to (`gen_ai.conversation.id`). */
  sessionId: z.string().min(1).optional(),
  /** The end user the run works for (`user.id`). */
  userId: z.string().min(1).optional(),
  /** Run tags (`agentrace.run.tags.<key>`), filterable with `GET /v1/runs?tag.<key>=<value>`. */
  tags: z.record(z.string().min(1), z.union([z.string(), z.number(), z.boolean()])).optional(),
  /** An explicit run id (a UUID is kept as it is, anything else is hashed into one); else the trace is the run. */
  runId: z.string().min(1).optional(),
});
/**
 * The options of `run()`; all are optional.
 * @example const options: RunOptions = { agent: 'planner', sessionId: 's-1', tags: { env: 'prod' } };
 */
export type RunOptions = z.input<typeof RunOptions>;

/**
 * The run being recorded, as `run()` hands it to its function.
 * @example await run('triage', {}, ({ traceId }) => log.info({ traceId }, 'triage started'));
 */
export interface RunHandle {
  /** The run's trace id: `GET /v1/runs?trace_id=<traceId>` finds it. */
  traceId: string;
  /** The run's explicit id, when one was given. */
  runId?: string;
  /** The run's root span, for attributes of your own. */
  span: Span;
}

/**
 * Records one run (episode) of an agent: a root span (a new trace) named `name`, with the agent, its role,
 * the session, the user and tags, around `fn`. Everything traced inside belongs to the run and is
 * attributed to its agent. A failure of `fn` fails the run and is re-thrown. A `run()` inside another run
 * starts a run of its own, linked to the span it was started from; for a sub-agent inside the same run,
 * use `step('agent', name, fn)`.
 * @example
 * await run('answer question', { agent: 'researcher', role: 'analyst', sessionId: 's-42', tags: { env: 'dev' } },
 *   async ({ traceId }) => {
 *     console.log(`trace ${traceId}`);
 *     return await step('chain', 'plan', () => plan(question));
 *   });
 */
export function run<T>(name: string, options: RunOptions, fn: (run: RunHandle) => T): T {
  const o = parseArguments('run', RunOptions, options);
  const runName = parseArguments('run', z.string().min(1), name);
  const agent = o.agent ?? runName;
  const enclosing = trace.getActiveSpan()?.spanContext();
  const links: Link[] = enclosing ? [{ context: enclosing }] : [];
  const tagValues = Object.fromEntries(Object.entries(o.tags ?? {}).map(([key, value]) => [key, String(value)]));
  const tagAttributes = Object.fromEntries(
    Object.entries(tagValues).map(([key, value]) => [`${AGENTRACE.runTagPrefix}${key}`, value]),
  );
  return traced(
    {
      name: runName,
      root: true,
      links,
      attributes: {
        [GEN_AI.operationName]: 'invoke_agent',
        [GEN_AI.agentName]: agent,
        [AGENTRACE.runName]: runName,
        [AGENTRACE.runId]: o.runId,
        [AGENTRACE.agentRole]: o.role,
        [GEN_AI.conversationId]: o.sessionId,
        [OTEL.userId]: o.userId,
        ...tagAttributes,
      },
      scope: { runId: o.runId, agentName: agent, run: { name: runName, tags: tagValues } },
    },
    (span) => fn({ traceId: span.spanContext().traceId, runId: o.runId, span }),
  );
}
