import { AGENTRACE, RunStatus, StepType } from '@agentrace/schemas';
import { defined, num, str, withPrefix } from '../attribute-readers.ts';
import type { Mapper } from '../mapped.ts';

/** Our own `agentrace.*` attributes (API.md "Our span attributes"): they win over every convention. */
export const agentraceMapper: Mapper = ({ attributes: a }) => {
  const type = StepType.safeParse(str(a, AGENTRACE.stepType));
  const runStatus = RunStatus.safeParse(str(a, AGENTRACE.runStatus));
  const tags = withPrefix(a, AGENTRACE.runTagPrefix);
  return defined({
    type: type.success ? type.data : undefined,
    runId: str(a, AGENTRACE.runId),
    runName: str(a, AGENTRACE.runName),
    runStatus: runStatus.success && runStatus.data !== 'running' ? runStatus.data : undefined,
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
