import type { Approval, DecisionResult } from '@agentrace/schemas';
import type { GovernanceStep } from '@agentrace/store';

/** The run a governance step goes into. */
export interface GatedRun {
  tenantId: string;
  projectId: string;
  runId: string;
  traceId: Buffer | null;
}

/**
 * The `policy` step of a decision: what was asked (tool, argument hash, by which key) and answered. A
 * break-glass decision is marked `break_glass: true`.
 */
export function decisionStep(
  run: GatedRun,
  call: { toolName: string; argsSha256: string; requestedBy: string },
  result: DecisionResult,
  breakGlass = false,
): GovernanceStep {
  return {
    ...run,
    type: 'policy',
    name: `${breakGlass ? 'break-glass' : 'policy'} ${call.toolName}`,
    toolName: call.toolName,
    decisionTokenId: result.token_id,
    input: { tool_name: call.toolName, args_sha256: call.argsSha256, requested_by: call.requestedBy },
    output: {
      decision: result.decision,
      policy_id: result.policy_id,
      rule_id: result.rule_id,
      reason: result.reason,
      approval_id: result.approval_id,
      token_id: result.token_id,
      expires_at: result.expires_at,
      ...(breakGlass ? { break_glass: true } : {}),
    },
  };
}

/** The `approval` step of an approval that was approved, denied or expired. */
export function approvalStep(run: GatedRun, approval: Approval): GovernanceStep {
  return {
    ...run,
    type: 'approval',
    name: `approval ${approval.tool_name}`,
    toolName: approval.tool_name,
    decisionTokenId: approval.token_id,
    input: {
      approval_id: approval.approval_id,
      tool_name: approval.tool_name,
      args_sha256: approval.args_sha256,
      requested_by: approval.requested_by,
    },
    output: {
      status: approval.status,
      decided_by: approval.decided_by,
      comment: approval.comment,
      token_id: approval.token_id,
    },
  };
}
