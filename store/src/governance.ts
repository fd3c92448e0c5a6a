import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { Approval, ApprovalStatus, DecisionClaims, Policy, PolicyDocument } from '@agentrace/schemas';
import { appendAudit } from './audit-log.ts';
import type { Queryable } from './connection.ts';
import { recordApprovalEvent } from './stream-events.ts';

/** The server's Ed25519 key pair that signs DecisionTokens (PEM). */
export interface SigningKey {
  id: string;
  publicKey: string;
  privateKey: string;
}

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

/**
 * The current signing key, made on first use. Run as the owner (the table is not the tenants'): two
 * servers racing both end with the one key the unique index let in.
 */
export async function currentSigningKey(db: Queryable): Promise<SigningKey> {
  const read = async () =>
    (
      await db.query<{ id: string; public_key: string; private_key: string }>(
        'SELECT id, public_key, private_key FROM decision_signing_key WHERE retired_at IS NULL',
      )
    ).rows[0];
  let row = await read();
  if (!row) {
    const pair = generateKeyPairSync('ed25519', {
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    await db.query(
      `INSERT INTO decision_signing_key (id, public_key, private_key) VALUES ($1, $2, $3)
       ON CONFLICT ((true)) WHERE retired_at IS NULL DO NOTHING`,
      [randomUUID(), pair.publicKey, pair.privateKey],
    );
    row = await read();
  }
  if (!row) throw new Error('no decision signing key');
  return { id: row.id, publicKey: row.public_key, privateKey: row.private_key };
}

/**
 * Retires the current signing key and makes a new one; the retired public key stays served so that the
 * tokens it signed verify until they expire. Audited in every tenant (each tenant's tokens are signed by
 * it). Call it in a transaction as the owner.
 */
export async function rotateSigningKey(
  db: Queryable,
): Promise<{ retiredKeyId: string | null; key: SigningKey }> {
  const retired = await db.query<{ id: string }>(
    'UPDATE decision_signing_key SET retired_at = now() WHERE retired_at IS NULL RETURNING id',
  );
  const key = await currentSigningKey(db);
  const retiredKeyId = retired.rows[0]?.id ?? null;
  const tenants = await db.query<{ id: string }>('SELECT id FROM tenant ORDER BY id');
  for (const t of tenants.rows) {
    await appendAudit(db, {
      tenantId: t.id,
      actorKeyId: null,
      action: 'signing_key.rotated',
      target: key.id,
      details: { retired_key_id: retiredKeyId },
    });
  }
  return { retiredKeyId, key };
}

/** Every public key that verifies tokens: the current one and the retired ones (their tokens may live on). */
export async function signingPublicKeys(
  db: Queryable,
): Promise<{ key_id: string; public_key: string; created_at: string; retired_at: string | null }[]> {
  const { rows } = await db.query<{
    id: string;
    public_key: string;
    created_at: Date;
    retired_at: Date | null;
  }>('SELECT id, public_key, created_at, retired_at FROM decision_signing_key ORDER BY created_at DESC');
  return rows.map((r) => ({
    key_id: r.id,
    public_key: r.public_key,
    created_at: iso(r.created_at)!,
    retired_at: iso(r.retired_at),
  }));
}

interface PolicyRow {
  id: string;
  project_id: string;
  version: number;
  document: PolicyDocument;
  active: boolean;
  created_at: Date;
  activated_at: Date | null;
}
const POLICY_COLUMNS = 'id, project_id, version, document, active, created_at, activated_at';
const toPolicy = (r: PolicyRow): Policy => ({
  policy_id: r.id,
  project_id: r.project_id,
  version: r.version,
  document: r.document,
  active: r.active,
  created_at: iso(r.created_at)!,
  activated_at: iso(r.activated_at),
});

/** A new version of a project's policy (inactive), audited; null when the project is not the tenant's. */
export async function createPolicy(
  db: Queryable,
  tenantId: string,
  projectId: string,
  document: PolicyDocument,
  actorKeyId: string | null,
): Promise<Policy | null> {
  const project = await db.query('SELECT 1 FROM project WHERE tenant_id = $1 AND id = $2 FOR UPDATE', [
    tenantId,
    projectId,
  ]);
  if (project.rowCount === 0) return null;
  const { rows } = await db.query<PolicyRow>(
    `INSERT INTO policy (tenant_id, id, project_id, version, document, created_by)
     SELECT $1, $2, $3, coalesce(max(version), 0) + 1, $4, $5 FROM policy WHERE tenant_id = $1 AND project_id = $3
     RETURNING ${POLICY_COLUMNS}`,
    [tenantId, randomUUID(), projectId, JSON.stringify(document), actorKeyId],
  );
  const policy = toPolicy(rows[0]!);
  await appendAudit(db, {
    tenantId,
    actorKeyId,
    action: 'policy.created',
    target: policy.policy_id,
    details: { project_id: projectId, version: policy.version },
  });
  return policy;
}

/** The tenant's policies, newest version first; one project's when given. */
export async function listPolicies(db: Queryable, tenantId: string, projectId?: string): Promise<Policy[]> {
  const { rows } = await db.query<PolicyRow>(
    `SELECT ${POLICY_COLUMNS} FROM policy WHERE tenant_id = $1 AND ($2::uuid IS NULL OR project_id = $2)
     ORDER BY project_id, version DESC`,
    [tenantId, projectId ?? null],
  );
  return rows.map(toPolicy);
}

/** Makes a version its project's active policy (the one before it stops being active), audited; null: none. */
export async function activatePolicy(
  db: Queryable,
  tenantId: string,
  policyId: string,
  actorKeyId: string | null,
): Promise<Policy | null> {
  const found = await db.query<{ project_id: string }>(
    'SELECT project_id FROM policy WHERE tenant_id = $1 AND id = $2',
    [tenantId, policyId],
  );
  const projectId = found.rows[0]?.project_id;
  if (!projectId) return null;
  // Serializes activations of one project, so the partial unique index never sees two at once.
  await db.query('SELECT 1 FROM project WHERE tenant_id = $1 AND id = $2 FOR UPDATE', [tenantId, projectId]);
  const previous = await db.query<{ id: string }>(
    `UPDATE policy SET active = false WHERE tenant_id = $1 AND project_id = $2 AND active AND id <> $3 RETURNING id`,
    [tenantId, projectId, policyId],
  );
  const { rows } = await db.query<PolicyRow>(
    `UPDATE policy SET active = true, activated_at = CASE WHEN active THEN activated_at ELSE now() END
     WHERE tenant_id = $1 AND id = $2 RETURNING ${POLICY_COLUMNS}`,
    [tenantId, policyId],
  );
  const policy = toPolicy(rows[0]!);
  await appendAudit(db, {
    tenantId,
    actorKeyId,
    action: 'policy.activated',
    target: policyId,
    details: { project_id: projectId, version: policy.version, replaced: previous.rows[0]?.id ?? null },
  });
  return policy;
}

/** The project's active policy, or null. */
export async function activePolicy(
  db: Queryable,
  tenantId: string,
  projectId: string,
): Promise<Policy | null> {
  const { rows } = await db.query<PolicyRow>(
    `SELECT ${POLICY_COLUMNS} FROM policy WHERE tenant_id = $1 AND project_id = $2 AND active`,
    [tenantId, projectId],
  );
  return rows[0] ? toPolicy(rows[0]) : null;
}

/** What a decision needs of a run: its project, tags and trace; null when it is not the tenant's. */
export async function runForDecision(
  db: Queryable,
  tenantId: string,
  runId: string,
): Promise<{ projectId: string; tags: Record<string, string>; traceId: Buffer | null } | null> {
  const { rows } = await db.query<{ project_id: string; tags: Record<string, string>; trace_id: Buffer | null }>(
    'SELECT project_id, tags, trace_id FROM run WHERE tenant_id = $1 AND id = $2',
    [tenantId, runId],
  );
  const row = rows[0];
  return row ? { projectId: row.project_id, tags: row.tags, traceId: row.trace_id } : null;
}

/**
 * Records a token the server issued, so that ingest can bind the tool step that presents it (binding.ts).
 * Call it in the transaction that decides the allow.
 */
export async function recordIssuedToken(
  db: Queryable,
  claims: DecisionClaims,
  approvalId: string | null = null,
): Promise<void> {
  await db.query(
    `INSERT INTO decision_token (tenant_id, id, project_id, run_id, tool_name, args_sha256, break_glass, approval_id,
       issued_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, to_timestamp($9), to_timestamp($10))`,
    [
      claims.tenant_id,
      claims.token_id,
      claims.project_id,
      claims.run_id,
      claims.tool_name,
      claims.args_sha256,
      claims.break_glass === true,
      approvalId,
      claims.iat,
      claims.exp,
    ],
  );
}

export interface ApprovalRow {
  id: string;
  project_id: string;
  run_id: string;
  policy_id: string;
  rule_id: string | null;
  tool_name: string;
  args: unknown;
  args_sha256: string;
  status: ApprovalStatus;
  requested_by: string | null;
  created_at: Date;
  expires_at: Date;
  decided_by: string | null;
  decided_at: Date | null;
  comment: string | null;
  token_id: string | null;
  token: string | null;
}
export const APPROVAL_COLUMNS =
  'id, project_id, run_id, policy_id, rule_id, tool_name, args, args_sha256, status, requested_by, created_at, expires_at, decided_by, decided_at, comment, token_id, token';
export const toApproval = (r: ApprovalRow): Approval => ({
  approval_id: r.id,
  project_id: r.project_id,
  run_id: r.run_id,
  policy_id: r.policy_id,
  rule_id: r.rule_id,
  tool_name: r.tool_name,
  args: r.args as Approval['args'],
  args_sha256: r.args_sha256,
  // A pending request past its time reads as expired before anyone touches it.
  status: r.status === 'pending' && new Date(r.expires_at).getTime() <= Date.now() ? 'expired' : r.status,
  requested_by: r.requested_by,
  created_at: iso(r.created_at)!,
  expires_at: iso(r.expires_at)!,
  decided_by: r.decided_by,
  decided_at: iso(r.decided_at),
  comment: r.comment,
  token_id: r.token_id,
  token: r.token,
});

export interface ApprovalRequest {
  tenantId: string;
  projectId: string;
  runId: string;
  policyId: string;
  ruleId: string | null;
  toolName: string;
  args: unknown;
  argsSha256: string;
  requestedBy: string | null;
  ttlSeconds: number;
}

/** A pending approval request. */
export async function createApproval(db: Queryable, r: ApprovalRequest): Promise<Approval> {
  const { rows } = await db.query<ApprovalRow>(
    `INSERT INTO approval (tenant_id, id, project_id, run_id, policy_id, rule_id, tool_name, args, args_sha256,
       requested_by, status, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', now() + make_interval(secs => $11))
     RETURNING ${APPROVAL_COLUMNS}`,
    [
      r.tenantId,
      randomUUID(),
      r.projectId,
      r.runId,
      r.policyId,
      r.ruleId,
      r.toolName,
      JSON.stringify(r.args ?? null),
      r.argsSha256,
      r.requestedBy,
      r.ttlSeconds,
    ],
  );
  const approval = toApproval(rows[0]!);
  await recordApprovalEvent(db, { tenantId: r.tenantId, projectId: r.projectId, runId: r.runId, approvalId: approval.approval_id });
  return approval;
}

export async function getApproval(db: Queryable, tenantId: string, id: string): Promise<Approval | null> {
  const { rows } = await db.query<ApprovalRow>(
    `SELECT ${APPROVAL_COLUMNS} FROM approval WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id],
  );
  return rows[0] ? toApproval(rows[0]) : null;
}

/** The tenant's approvals, newest first, of one status when given (expired: pending past their time too). */
export async function listApprovals(
  db: Queryable,
  tenantId: string,
  status: ApprovalStatus | undefined,
  limit: number,
): Promise<Approval[]> {
  const { rows } = await db.query<ApprovalRow>(
    `SELECT ${APPROVAL_COLUMNS} FROM approval WHERE tenant_id = $1 AND (
       $2::text IS NULL
       OR ($2 = 'pending' AND status = 'pending' AND expires_at > now())
       OR ($2 = 'expired' AND (status = 'expired' OR (status = 'pending' AND expires_at <= now())))
       OR ($2 NOT IN ('pending', 'expired') AND status = $2))
     ORDER BY created_at DESC, id DESC LIMIT $3`,
    [tenantId, status ?? null, limit],
  );
  return rows.map(toApproval);
}

export type DecideOutcome =
  | { ok: true; approval: Approval }
  | { ok: false; reason: 'not_found' | 'own_request' | 'already_decided' | 'expired'; approval?: Approval };

/** The channel on which a decided or expired approval is announced (payload `<tenant_id>/<approval_id>`). */
export const APPROVAL_CHANNEL = 'agentrace_approval';

/** Wakes the long-polls waiting on the approval, and the live stream, at commit. */
async function announce(db: Queryable, tenantId: string, approval: Approval): Promise<void> {
  await db.query('SELECT pg_notify($1, $2)', [APPROVAL_CHANNEL, `${tenantId}/${approval.approval_id}`]);
  await recordApprovalEvent(db, {
    tenantId,
    projectId: approval.project_id,
    runId: approval.run_id,
    approvalId: approval.approval_id,
  });
}

/**
 * Approves or denies a pending request, audited and announced on APPROVAL_CHANNEL (at commit). An
 * approval gets the token `issue` signs for it, recorded as issued. A request past its time is marked
 * expired (and stays so): call it in a transaction that commits either way.
 */
export async function decideApproval(
  db: Queryable,
  tenantId: string,
  id: string,
  decision: { approve: boolean; actorKeyId: string; comment: string },
  issue: (approval: Approval) => { claims: DecisionClaims; token: string },
): Promise<DecideOutcome> {
  const { rows } = await db.query<ApprovalRow>(
    `SELECT ${APPROVAL_COLUMNS} FROM approval WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
    [tenantId, id],
  );
  if (!rows[0]) return { ok: false, reason: 'not_found' };
  const current = toApproval(rows[0]);
  if (rows[0].status !== 'pending') return { ok: false, reason: 'already_decided', approval: current };
  if (current.status === 'expired') {
    await expireApproval(db, tenantId, id);
    return { ok: false, reason: 'expired', approval: current };
  }
  if (current.requested_by === decision.actorKeyId)
    return { ok: false, reason: 'own_request', approval: current };
  const token = decision.approve ? issue(current) : null;
  const updated = await db.query<ApprovalRow>(
    `UPDATE approval SET status = $3, decided_by = $4, decided_at = now(), comment = $5, token_id = $6, token = $7
     WHERE tenant_id = $1 AND id = $2 RETURNING ${APPROVAL_COLUMNS}`,
    [
      tenantId,
      id,
      decision.approve ? 'approved' : 'denied',
      decision.actorKeyId,
      decision.comment,
      token?.claims.token_id ?? null,
      token?.token ?? null,
    ],
  );
  if (token) await recordIssuedToken(db, token.claims, id);
  const approval = toApproval(updated.rows[0]!);
  await announce(db, tenantId, approval);
  await appendAudit(db, {
    tenantId,
    actorKeyId: decision.actorKeyId,
    action: decision.approve ? 'approval.approved' : 'approval.denied',
    target: id,
    details: {
      run_id: approval.run_id,
      tool_name: approval.tool_name,
      comment: decision.comment,
      token_id: approval.token_id,
    },
  });
  return { ok: true, approval };
}

/**
 * Marks a pending request that is past its time expired, audited (by no one: the clock) and announced.
 * Expiry is lazy: this runs when someone looks at the request. Returns it when this call expired it,
 * null when it was not pending past its time (already settled, or still waiting).
 */
export async function expireApproval(db: Queryable, tenantId: string, id: string): Promise<Approval | null> {
  const { rows } = await db.query<ApprovalRow>(
    `UPDATE approval SET status = 'expired', decided_at = expires_at
     WHERE tenant_id = $1 AND id = $2 AND status = 'pending' AND expires_at <= now() RETURNING ${APPROVAL_COLUMNS}`,
    [tenantId, id],
  );
  if (!rows[0]) return null;
  const approval = toApproval(rows[0]);
  await appendAudit(db, {
    tenantId,
    actorKeyId: null,
    action: 'approval.expired',
    target: id,
    details: { run_id: approval.run_id, tool_name: approval.tool_name },
  });
  await announce(db, tenantId, approval);
  return approval;
}
