import {
  argsHash,
  BreakGlassBody,
  CreatePolicyBody,
  DecisionBody,
  type DecisionPublicKeys,
  type DecisionResult,
  evaluatePolicy,
  notFound,
  parseBody,
  parseId,
  PolicyListQuery,
} from '@agentrace/schemas';
import {
  activatePolicy,
  activePolicy,
  appendAudit,
  createApproval,
  createPolicy,
  currentSigningKey,
  listPolicies,
  type Pool,
  type PoolClient,
  recordIssuedToken,
  runForDecision,
  signingPublicKeys,
  withTenant,
  writeGovernanceStep,
} from '@agentrace/store';
import express, { type Response, Router } from 'express';
import { principalOf } from '../auth.ts';
import { type IssuedToken, type Signer, tokenIssuer } from '../governance/token-issuer.ts';
import { decisionStep, type GatedRun } from '../governance/trace-steps.ts';
import { parseQuery } from '../parse-request.ts';
import { approvalsRouter } from './approvals.ts';

const readJson = express.json({ type: () => true, limit: '256kb' });

export interface GovernanceOptions {
  /** How long an allow token is valid, in seconds. */
  tokenTtlSeconds?: number;
  /** How long an approval request waits for a person before it expires, in seconds. */
  approvalTtlSeconds?: number;
}

/**
 * Governance (API.md "Governance", DESIGN §6): policy versions and their activation, decisions on tool
 * calls (an Ed25519-signed DecisionToken for an allow, recorded so that ingest can bind it to the tool
 * step), break-glass, and approvals. Changes are audited; each decision and approval is a step of its run.
 */
export function governanceRouter(pool: Pool, options: GovernanceOptions = {}): Router {
  const tokens = tokenIssuer(pool, options.tokenTtlSeconds ?? 300);
  const approvalTtl = options.approvalTtlSeconds ?? 24 * 3600;
  const router = Router();
  const asTenant = <T>(res: Response, work: (db: PoolClient) => Promise<T>) =>
    withTenant(pool, principalOf(res).tenantId, work);

  router.get('/v1/policies', async (req, res) => {
    const { project_id } = parseQuery(PolicyListQuery, req.query);
    const { tenantId } = principalOf(res);
    res.json({ data: await asTenant(res, (db) => listPolicies(db, tenantId, project_id?.toLowerCase())) });
  });

  router.post('/v1/policies', readJson, async (req, res) => {
    const body = parseBody(CreatePolicyBody, req.body);
    const { tenantId, keyId } = principalOf(res);
    const policy = await asTenant(res, (db) =>
      createPolicy(db, tenantId, body.project_id.toLowerCase(), body.document, keyId),
    );
    if (!policy) throw notFound('project');
    res.status(201).json(policy);
  });

  router.post('/v1/policies/:policyId\\:activate', async (req, res) => {
    const policyId = parseId((req.params as Record<string, string>).policyId, 'policy_id');
    const { tenantId, keyId } = principalOf(res);
    const policy = await asTenant(res, (db) => activatePolicy(db, tenantId, policyId, keyId));
    if (!policy) throw notFound('policy');
    res.json(policy);
  });

  router.get('/v1/decisions/public-key', async (_req, res) => {
    const current = await currentSigningKey(pool);
    const body: DecisionPublicKeys = {
      key_id: current.id,
      algorithm: 'Ed25519',
      public_key: current.publicKey,
      keys: await signingPublicKeys(pool),
    };
    res.json(body);
  });

  router.post('/v1/decisions', readJson, async (req, res) => {
    const body = parseBody(DecisionBody, req.body);
    const principal = principalOf(res);
    const { tenantId, keyId } = principal;
    const runId = body.run_id.toLowerCase();
    const sign = await tokens.signer();
    const hash = argsHash(body.args);
    const { run, result } = await asTenant(res, async (db) => {
      const found = await runForDecision(db, tenantId, runId);
      // An ingest key reaches only its own project's runs; another project's run is as absent as another tenant's.
      if (!found || (principal.kind === 'ingest' && principal.projectId !== found.projectId))
        throw notFound('run');
      const run: GatedRun = { tenantId, projectId: found.projectId, runId, traceId: found.traceId };
      const none = { token: null, token_id: null, approval_id: null, expires_at: null };
      const policy = await activePolicy(db, tenantId, run.projectId);
      if (!policy) {
        const result: DecisionResult = {
          ...none,
          decision: 'deny',
          policy_id: null,
          rule_id: null,
          reason: 'the project has no active policy',
        };
        return { run, result };
      }
      const verdict = evaluatePolicy(policy.document, {
        toolName: body.tool_name,
        args: body.args,
        tags: found.tags,
      });
      const decided = { policy_id: policy.policy_id, rule_id: verdict.ruleId, reason: verdict.reason };
      if (verdict.effect === 'block')
        return { run, result: { ...none, ...decided, decision: 'deny' } as DecisionResult };
      if (verdict.effect === 'require_approval') {
        const approval = await createApproval(db, {
          tenantId,
          projectId: run.projectId,
          runId,
          policyId: policy.policy_id,
          ruleId: verdict.ruleId,
          toolName: body.tool_name,
          args: body.args,
          argsSha256: hash,
          requestedBy: keyId,
          ttlSeconds: approvalTtl,
        });
        const result: DecisionResult = {
          ...none,
          ...decided,
          decision: 'pending',
          approval_id: approval.approval_id,
          expires_at: approval.expires_at,
        };
        return { run, result };
      }
      const issued = await issueAllow(db, sign, run, body.tool_name, hash);
      const result: DecisionResult = {
        ...decided,
        decision: 'allow',
        token: issued.token,
        token_id: issued.claims.token_id,
        approval_id: null,
        expires_at: issued.expiresAt,
      };
      return { run, result };
    });
    await writeGovernanceStep(
      pool,
      decisionStep(run, { toolName: body.tool_name, argsSha256: hash, requestedBy: keyId }, result),
    );
    res.json(result);
  });

  // Break-glass: an admin runs one call whatever the policy says (even a block). The token says so, and
  // the override is audited with its mandatory reason in the same transaction.
  router.post('/v1/decisions\\:break-glass', readJson, async (req, res) => {
    const body = parseBody(BreakGlassBody, req.body);
    const { tenantId, keyId } = principalOf(res);
    const runId = body.run_id.toLowerCase();
    const sign = await tokens.signer();
    const hash = argsHash(body.args);
    const { run, result } = await asTenant(res, async (db) => {
      const found = await runForDecision(db, tenantId, runId);
      if (!found) throw notFound('run');
      const run: GatedRun = { tenantId, projectId: found.projectId, runId, traceId: found.traceId };
      const policy = await activePolicy(db, tenantId, run.projectId);
      const issued = await issueAllow(db, sign, run, body.tool_name, hash, true);
      await appendAudit(db, {
        tenantId,
        actorKeyId: keyId,
        action: 'decision.break_glass',
        target: issued.claims.token_id,
        details: { run_id: runId, tool_name: body.tool_name, args_sha256: hash, reason: body.reason },
      });
      const result: DecisionResult = {
        decision: 'allow',
        token: issued.token,
        token_id: issued.claims.token_id,
        approval_id: null,
        policy_id: policy?.policy_id ?? null,
        rule_id: null,
        reason: body.reason,
        expires_at: issued.expiresAt,
      };
      return { run, result };
    });
    await writeGovernanceStep(
      pool,
      decisionStep(run, { toolName: body.tool_name, argsSha256: hash, requestedBy: keyId }, result, true),
    );
    res.json(result);
  });

  router.use(approvalsRouter(pool, tokens));
  return router;
}

/** Signs an allow for one call of `run` and records it, so that ingest can bind the tool step to it. */
async function issueAllow(
  db: PoolClient,
  sign: Signer,
  run: GatedRun,
  toolName: string,
  argsSha256: string,
  breakGlass = false,
): Promise<IssuedToken> {
  const issued = sign({
    tenant_id: run.tenantId,
    project_id: run.projectId,
    run_id: run.runId,
    tool_name: toolName,
    args_sha256: argsSha256,
    ...(breakGlass ? { break_glass: true } : {}),
  });
  await recordIssuedToken(db, issued.claims);
  return issued;
}
