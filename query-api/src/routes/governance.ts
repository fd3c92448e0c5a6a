import {
  ApprovalActionBody,
  ApprovalListQuery,
  argsHash,
  BreakGlassBody,
  CreatePolicyBody,
  DecisionBody,
  type DecisionClaims,
  type DecisionResult,
  evaluatePolicy,
  HttpError,
  newClaims,
  notFound,
  parseBody,
  parseId,
  signDecisionToken,
} from '@agentrace/schemas';
import {
  activatePolicy,
  activePolicy,
  appendAudit,
  createApproval,
  createPolicy,
  currentSigningKey,
  decideApproval,
  getApproval,
  listApprovals,
  listPolicies,
  type Pool,
  type PoolClient,
  runForDecision,
  type SigningKey,
  signingPublicKeys,
  withTenant,
} from '@agentrace/store';
import express, { type Response, Router } from 'express';
import { z } from 'zod';
import { principalOf } from '../auth.ts';
import { parseQuery } from '../parse-request.ts';

const readJson = express.json({ type: () => true, limit: '256kb' });

export interface GovernanceOptions {
  /** How long an allow token is valid, in seconds. */
  tokenTtlSeconds?: number;
  /** How long an approval request waits for a person before it expires, in seconds. */
  approvalTtlSeconds?: number;
}

/** What an allow token binds, besides the key that signs it. */
type TokenFields = Omit<DecisionClaims, 'v' | 'kid' | 'token_id' | 'nonce' | 'decision' | 'iat' | 'exp'>;

const PolicyListQuery = z.object({ project_id: z.uuid().optional() }).strict();

/**
 * Governance (API.md "Governance", DESIGN §6): policy versions and their activation, decisions on tool
 * calls (an Ed25519-signed DecisionToken for an allow), and approvals. Changes are audited.
 */
export function governanceRouter(pool: Pool, options: GovernanceOptions = {}): Router {
  const tokenTtl = options.tokenTtlSeconds ?? 300;
  const approvalTtl = options.approvalTtlSeconds ?? 24 * 3600;
  const router = Router();
  const asTenant = <T>(res: Response, work: (db: PoolClient) => Promise<T>) =>
    withTenant(pool, principalOf(res).tenantId, work);
  // The key is the server's, not a tenant's: read as the owner, on each use, so that a rotation
  // (`agentrace keys rotate-signing`) takes effect in every running server at once.
  const key = () => currentSigningKey(pool);
  const allowToken = (signer: SigningKey, fields: TokenFields) => {
    const claims = newClaims({ kid: signer.id, ...fields }, tokenTtl);
    return {
      claims,
      token: signDecisionToken(claims, signer.privateKey),
      expiresAt: new Date(claims.exp * 1000).toISOString(),
    };
  };

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
    const current = await key();
    res.json({
      key_id: current.id,
      algorithm: 'Ed25519',
      public_key: current.publicKey,
      keys: await signingPublicKeys(pool),
    });
  });

  router.post('/v1/decisions', readJson, async (req, res) => {
    const body = parseBody(DecisionBody, req.body);
    const principal = principalOf(res);
    const { tenantId, keyId } = principal;
    const runId = body.run_id.toLowerCase();
    const signer = await key();
    const result = await asTenant(res, async (db): Promise<DecisionResult> => {
      const run = await runForDecision(db, tenantId, runId);
      // An ingest key reaches only its own project's runs; another project's run is as absent as another tenant's.
      if (!run || (principal.kind === 'ingest' && principal.projectId !== run.projectId))
        throw notFound('run');
      const none = { token: null, token_id: null, approval_id: null, expires_at: null };
      const policy = await activePolicy(db, tenantId, run.projectId);
      if (!policy) {
        return {
          ...none,
          decision: 'deny',
          policy_id: null,
          rule_id: null,
          reason: 'the project has no active policy',
        };
      }
      const verdict = evaluatePolicy(policy.document, {
        toolName: body.tool_name,
        args: body.args,
        tags: run.tags,
      });
      const decided = { policy_id: policy.policy_id, rule_id: verdict.ruleId, reason: verdict.reason };
      const hash = argsHash(body.args);
      if (verdict.effect === 'block') return { ...none, ...decided, decision: 'deny' };
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
        return {
          ...none,
          ...decided,
          decision: 'pending',
          approval_id: approval.approval_id,
          expires_at: approval.expires_at,
        };
      }
      const issued = allowToken(signer, {
        tenant_id: tenantId,
        project_id: run.projectId,
        run_id: runId,
        tool_name: body.tool_name,
        args_sha256: hash,
      });
      return {
        ...decided,
        decision: 'allow',
        token: issued.token,
        token_id: issued.claims.token_id,
        approval_id: null,
        expires_at: issued.expiresAt,
      };
    });
    res.json(result);
  });

  // Break-glass: an admin runs one call whatever the policy says (even a block). The token says so, and
  // the override is audited with its mandatory reason in the same transaction.
  router.post('/v1/decisions\\:break-glass', readJson, async (req, res) => {
    const body = parseBody(BreakGlassBody, req.body);
    const { tenantId, keyId } = principalOf(res);
    const runId = body.run_id.toLowerCase();
    const signer = await key();
    const result = await asTenant(res, async (db): Promise<DecisionResult> => {
      const run = await runForDecision(db, tenantId, runId);
      if (!run) throw notFound('run');
      const policy = await activePolicy(db, tenantId, run.projectId);
      const issued = allowToken(signer, {
        tenant_id: tenantId,
        project_id: run.projectId,
        run_id: runId,
        tool_name: body.tool_name,
        args_sha256: argsHash(body.args),
        break_glass: true,
      });
      await appendAudit(db, {
        tenantId,
        actorKeyId: keyId,
        action: 'decision.break_glass',
        target: issued.claims.token_id,
        details: {
          run_id: runId,
          tool_name: body.tool_name,
          args_sha256: issued.claims.args_sha256,
          reason: body.reason,
        },
      });
      return {
        decision: 'allow',
        token: issued.token,
        token_id: issued.claims.token_id,
        approval_id: null,
        policy_id: policy?.policy_id ?? null,
        rule_id: null,
        reason: body.reason,
        expires_at: issued.expiresAt,
      };
    });
    res.json(result);
  });

  router.get('/v1/approvals', async (req, res) => {
    const query = parseQuery(ApprovalListQuery, req.query);
    const { tenantId } = principalOf(res);
    res.json({ data: await asTenant(res, (db) => listApprovals(db, tenantId, query.status, query.limit)) });
  });

  router.get('/v1/approvals/:approvalId', async (req, res) => {
    const id = parseId((req.params as Record<string, string>).approvalId, 'approval_id');
    const { tenantId } = principalOf(res);
    const approval = await asTenant(res, (db) => getApproval(db, tenantId, id));
    if (!approval) throw notFound('approval');
    res.json(approval);
  });

  const decide = (approve: boolean) => async (req: express.Request, res: Response) => {
    const id = parseId((req.params as Record<string, string>).approvalId, 'approval_id');
    const { comment } = parseBody(ApprovalActionBody, req.body);
    const { tenantId, keyId } = principalOf(res);
    const signer = approve ? await key() : null;
    const outcome = await asTenant(res, (db) =>
      decideApproval(db, tenantId, id, { approve, actorKeyId: keyId, comment }, (a) => {
        const issued = allowToken(signer!, {
          tenant_id: tenantId,
          project_id: a.project_id,
          run_id: a.run_id,
          tool_name: a.tool_name,
          args_sha256: a.args_sha256,
        });
        return { tokenId: issued.claims.token_id, token: issued.token };
      }),
    );
    if (outcome.ok) {
      res.json(outcome.approval);
      return;
    }
    if (outcome.reason === 'not_found') throw notFound('approval');
    if (outcome.reason === 'own_request')
      throw new HttpError(
        'permission_denied',
        'a request may not be approved or denied by the key that made it',
      );
    throw new HttpError('conflict', `the approval is ${outcome.approval?.status ?? outcome.reason}`);
  };
  router.post('/v1/approvals/:approvalId\\:approve', readJson, decide(true));
  router.post('/v1/approvals/:approvalId\\:deny', readJson, decide(false));

  return router;
}
