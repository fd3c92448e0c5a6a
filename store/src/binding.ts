import { evaluatePolicy, type GovernanceViolation, type PolicyDocument } from '@agentrace/schemas';
import type { PoolClient } from './connection.ts';
import type { StepFacts } from './ingest-types.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A step of the batch that is stored now (not a re-delivery), with the id it gets. */
export interface FreshStep {
  record: StepFacts;
  stepId: string;
}

/**
 * The governance binding (DESIGN §6), checked in the ingest writer's transaction for the fresh tool steps
 * of a batch: a step that names a DecisionToken uses it up when the token exists for the tenant and was
 * issued for the same run, tool and argument hash, and no earlier step used it; a step without a token is
 * a violation when the project's active policy gates its tool (require_approval or block). A project with
 * no active policy is not governed. Re-deliveries are not fresh, so they never count as a reuse. At most
 * three statements per batch, none when it has no tool step.
 * @returns the violation of each fresh step that has one, by its index in `fresh`.
 */
export async function bindToolSteps(
  client: PoolClient,
  fresh: readonly FreshStep[],
  tagsOf: (record: StepFacts) => Record<string, string>,
): Promise<Map<number, GovernanceViolation>> {
  const violations = new Map<number, GovernanceViolation>();
  const tools = fresh.map((f, index) => ({ ...f, index })).filter((f) => f.record.type === 'tool');
  const withToken = tools.filter((t) => t.record.decisionTokenId !== null);
  const without = tools.filter((t) => t.record.decisionTokenId === null);
  if (withToken.length > 0) await useTokens(client, withToken, violations);
  if (without.length > 0) await checkUngated(client, without, tagsOf, violations);
  return violations;
}

type Indexed = FreshStep & { index: number };
const tokenKey = (tenantId: string, id: string) => `${tenantId}/${id}`;

async function useTokens(client: PoolClient, steps: Indexed[], violations: Map<number, GovernanceViolation>) {
  const ids = steps.map((s) => s.record.decisionTokenId!.toLowerCase());
  const known = steps
    .map((s, i) => ({ tenantId: s.record.tenantId, id: ids[i]! }))
    .filter((k) => UUID.test(k.id));
  // Locked: two batches that race to use one token serialize here, and the second sees it used.
  const { rows } = await client.query<{
    tenant_id: string;
    id: string;
    run_id: string;
    tool_name: string;
    args_sha256: string;
    used_by_step: string | null;
  }>(
    `SELECT tenant_id, id, run_id, tool_name, args_sha256, used_by_step FROM decision_token
     WHERE (tenant_id, id) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[])) ORDER BY tenant_id, id FOR UPDATE`,
    [known.map((k) => k.tenantId), known.map((k) => k.id)],
  );
  const tokens = new Map(rows.map((r) => [tokenKey(r.tenant_id, r.id), r]));
  const uses: { tenantId: string; id: string; stepId: string }[] = [];
  const usedNow = new Set<string>();
  steps.forEach((s, i) => {
    const key = tokenKey(s.record.tenantId, ids[i]!);
    const token = tokens.get(key);
    const violation: GovernanceViolation | null = !token
      ? 'unknown_token'
      : token.run_id !== s.record.runId
        ? 'run_mismatch'
        : token.tool_name !== s.record.toolName
          ? 'tool_mismatch'
          : token.args_sha256 !== s.record.toolCall?.argsSha256
            ? 'args_mismatch'
            : token.used_by_step !== null || usedNow.has(key)
              ? 'token_reused'
              : null;
    if (violation) {
      violations.set(s.index, violation);
      return;
    }
    usedNow.add(key);
    uses.push({ tenantId: s.record.tenantId, id: ids[i]!, stepId: s.stepId });
  });
  if (uses.length === 0) return;
  await client.query(
    `UPDATE decision_token d SET used_at = now(), used_by_step = u.step_id
     FROM unnest($1::uuid[], $2::uuid[], $3::uuid[]) AS u(tenant_id, id, step_id)
     WHERE d.tenant_id = u.tenant_id AND d.id = u.id`,
    [uses.map((u) => u.tenantId), uses.map((u) => u.id), uses.map((u) => u.stepId)],
  );
}

async function checkUngated(
  client: PoolClient,
  steps: Indexed[],
  tagsOf: (record: StepFacts) => Record<string, string>,
  violations: Map<number, GovernanceViolation>,
) {
  const projects = [
    ...new Map(steps.map((s) => [`${s.record.tenantId}/${s.record.projectId}`, s.record])).values(),
  ];
  const { rows } = await client.query<{ tenant_id: string; project_id: string; document: PolicyDocument }>(
    `SELECT tenant_id, project_id, document FROM policy
     WHERE active AND (tenant_id, project_id) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[]))`,
    [projects.map((p) => p.tenantId), projects.map((p) => p.projectId)],
  );
  if (rows.length === 0) return;
  const policies = new Map(rows.map((r) => [`${r.tenant_id}/${r.project_id}`, r.document]));
  for (const s of steps) {
    const policy = policies.get(`${s.record.tenantId}/${s.record.projectId}`);
    if (!policy) continue;
    const verdict = evaluatePolicy(policy, {
      toolName: s.record.toolName ?? s.record.name,
      args: s.record.toolCall?.args,
      tags: tagsOf(s.record),
    });
    if (verdict.effect !== 'allow') violations.set(s.index, 'missing_token');
  }
}

/** Adds the batch's violations to their runs' `governance_violations`. */
export async function countViolations(
  client: PoolClient,
  fresh: readonly FreshStep[],
  violations: Map<number, GovernanceViolation>,
): Promise<void> {
  if (violations.size === 0) return;
  const perRun = new Map<string, { tenantId: string; runId: string; n: number }>();
  for (const index of violations.keys()) {
    const { tenantId, runId } = fresh[index]!.record;
    const entry = perRun.get(`${tenantId}/${runId}`) ?? { tenantId, runId, n: 0 };
    entry.n++;
    perRun.set(`${tenantId}/${runId}`, entry);
  }
  const runs = [...perRun.values()];
  await client.query(
    `UPDATE run r SET governance_violations = r.governance_violations + d.n, updated_at = clock_timestamp()
     FROM unnest($1::uuid[], $2::uuid[], $3::int[]) AS d(tenant_id, id, n)
     WHERE r.tenant_id = d.tenant_id AND r.id = d.id`,
    [runs.map((r) => r.tenantId), runs.map((r) => r.runId), runs.map((r) => r.n)],
  );
}
