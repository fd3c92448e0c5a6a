import { AGENTRACE, RunStatus, StepType } from '@agentrace/schemas';
import { defined, num, str, withPrefix } from '../attribute-readers.ts';
import type { Mapper } from '../mapped.ts';

/** Our own `agentrace.*` attributes (API.md "Our span attributes"): they win over every convention. */
// Membership tests rather than safeParse: this runs for every span, and a failed zod parse (the usual
// case: the attribute is absent) builds an error object.
const STEP_TYPES: ReadonlySet<string> = new Set(StepType.options);
const FINAL_RUN_STATUSES: ReadonlySet<string> = new Set(RunStatus.options.filter((s) => s !== 'running'));
const oneOf = <T extends string>(allowed: ReadonlySet<string>, value: string | undefined): T | undefined =>
  value !== undefined && allowed.has(value) ? (value as T) : undefined;

export const agentraceMapper: Mapper = ({ attributes: a }) => {
  const tags = withPrefix(a, AGENTRACE.runTagPrefix);
  return defined({
    type: oneOf<StepType>(STEP_TYPES, str(a, AGENTRACE.stepType)),
    runId: str(a, AGENTRACE.runId),
    runName: str(a, AGENTRACE.runName),
    runStatus: oneOf<RunStatus>(FINAL_RUN_STATUSES, str(a, AGENTRACE.runStatus)),
    runTags: Object.keys(tags).length > 0 ? tags : undefined,
    agentRole: str(a, AGENTRACE.agentRole),
    taskType: str(a, AGENTRACE.taskType),
    artifactId: str(a, AGENTRACE.artifactId),
    method: str(a, AGENTRACE.invocationMethod),
    invoker: str(a, AGENTRACE.invokerId),
    reportedCostUsd: num(a, AGENTRACE.costUsd),
    decisionTokenId: str(a, AGENTRACE.decisionTokenId),
  });
};
