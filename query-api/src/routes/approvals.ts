import { setTimeout as sleep } from 'node:timers/promises';
import {
  type Approval,
  ApprovalActionBody,
  ApprovalGetQuery,
  ApprovalListQuery,
  HttpError,
  notFound,
  parseBody,
  parseId,
} from '@agentrace/schemas';
import {
  decideApproval,
  expireApproval,
  getApproval,
  listApprovals,
  type Pool,
  type PoolClient,
  runForDecision,
  withTenant,
  writeGovernanceStep,
} from '@agentrace/store';
import express, { type Response, Router } from 'express';
import { principalOf } from '../auth.ts';
import { ApprovalNotifications } from '../governance/approval-notifications.ts';
import type { TokenIssuer } from '../governance/token-issuer.ts';
import { approvalStep } from '../governance/trace-steps.ts';
import { parseQuery } from '../parse-request.ts';

// Approve and deny carry only a comment.
const readJson = express.json({ type: () => true, limit: '16kb' });

/**
 * Approvals (API.md "Governance"): list, read (with an optional long-poll, `?wait=30s`, that answers as
 * soon as the request is decided or expires), approve and deny. An approval turns the request into a
 * token; each outcome, expiry included, is a step of the run.
 */
export function approvalsRouter(pool: Pool, tokens: TokenIssuer): Router {
  const router = Router();
  const notifications = new ApprovalNotifications(pool);
  const asTenant = <T>(res: Response, work: (db: PoolClient) => Promise<T>) =>
    withTenant(pool, principalOf(res).tenantId, work);
  /** Writes the approval's outcome into its run. */
  const trace = async (tenantId: string, approval: Approval) => {
    const run = await withTenant(pool, tenantId, (db) => runForDecision(db, tenantId, approval.run_id));
    if (!run) return;
    await writeGovernanceStep(
      pool,
      approvalStep(
        { tenantId, projectId: approval.project_id, runId: approval.run_id, traceId: run.traceId },
        approval,
      ),
    );
  };

  router.get('/v1/approvals', async (req, res) => {
    const query = parseQuery(ApprovalListQuery, req.query);
    const { tenantId } = principalOf(res);
    res.json({ data: await asTenant(res, (db) => listApprovals(db, tenantId, query.status, query.limit)) });
  });

  router.get('/v1/approvals/:approvalId', async (req, res) => {
    const id = parseId((req.params as Record<string, string>).approvalId, 'approval_id');
    const { wait } = parseQuery(ApprovalGetQuery, req.query);
    const principal = principalOf(res);
    const { tenantId } = principal;
    // An ingest key sees only its own project's requests; another project's is as absent as another tenant's.
    const read = async () => {
      const found = await asTenant(res, (db) => getApproval(db, tenantId, id));
      return principal.kind === 'ingest' && found?.project_id !== principal.projectId ? null : found;
    };
    let approval = wait ? await readAfterWait(id, wait) : await read();
    if (!approval) throw notFound('approval');
    // Expiry is lazy: the first look past the time settles it (audited, and a step of the run).
    if (approval.status === 'expired') {
      const expired = await asTenant(res, (db) => expireApproval(db, tenantId, id));
      if (expired) {
        await trace(tenantId, expired);
        approval = expired;
      }
    }
    res.json(approval);

    /** Reads the approval; while it is pending, waits for its announcement, its expiry or `ms`, and reads again. */
    async function readAfterWait(approvalId: string, ms: number): Promise<Approval | null> {
      // Subscribed before the read, so that a decision in between is not missed.
      const subscription = await notifications.subscribe(tenantId, approvalId);
      const stop = new AbortController();
      res.once('close', () => stop.abort());
      try {
        const first = await read();
        if (first?.status !== 'pending') return first;
        const untilExpiry = Math.max(0, Date.parse(first.expires_at) - Date.now());
        await Promise.race([
          subscription.changed,
          sleep(Math.min(ms, untilExpiry + 10), undefined, { signal: stop.signal }).catch(() => undefined),
        ]);
        return await read();
      } finally {
        stop.abort();
        subscription.cancel();
      }
    }
  });

  const decide = (approve: boolean) => async (req: express.Request, res: Response) => {
    const id = parseId((req.params as Record<string, string>).approvalId, 'approval_id');
    const { comment } = parseBody(ApprovalActionBody, req.body);
    const { tenantId, keyId } = principalOf(res);
    const sign = approve ? await tokens.signer() : null;
    const outcome = await asTenant(res, (db) =>
      decideApproval(db, tenantId, id, { approve, actorKeyId: keyId, comment }, (a) =>
        sign!({
          tenant_id: tenantId,
          project_id: a.project_id,
          run_id: a.run_id,
          tool_name: a.tool_name,
          args_sha256: a.args_sha256,
        }),
      ),
    );
    if (outcome.ok) {
      await trace(tenantId, outcome.approval);
      res.json(outcome.approval);
      return;
    }
    if (outcome.reason === 'not_found') throw notFound('approval');
    if (outcome.reason === 'own_request')
      throw new HttpError(
        'permission_denied',
        'a request may not be approved or denied by the key that made it',
      );
    // This call found it past its time and settled it: the expiry is a step of the run too.
    if (outcome.reason === 'expired' && outcome.approval) await trace(tenantId, outcome.approval);
    throw new HttpError('conflict', `the approval is ${outcome.approval?.status ?? outcome.reason}`);
  };
  router.post('/v1/approvals/:approvalId\\:approve', readJson, decide(true));
  router.post('/v1/approvals/:approvalId\\:deny', readJson, decide(false));

  return router;
}
