import { randomUUID } from 'node:crypto';
import { AuditAction, type AuditListQuery, type AuditRecord } from '@agentrace/schemas';
import { auditRowHash, GENESIS_HASH } from './audit-chain.ts';
import type { Queryable } from './connection.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import type { Page } from './run-queries.ts';

/** What to record: who (the key, or null for the system and the CLI) did what to which object. */
export interface AuditEntry {
  tenantId: string;
  actorKeyId: string | null;
  action: string;
  target: string | null;
  details?: Record<string, unknown>;
}

// Audit times are kept to the millisecond, so that this text (which is hashed) reads back unchanged.
const MILLIS_TEXT = (column: string) =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
export const AUDIT_COLUMNS = `seq, id, ${MILLIS_TEXT('ts')} AS ts, actor_key_id, action, target, details, prev_hash, hash`;

/**
 * Appends an entry to its tenant's hash chain. Call it with the client of the transaction that makes the
 * change it records, so both commit or neither does; it holds the tenant's chain head locked until then,
 * which serializes appends per tenant. Outside a transaction it throws.
 * @example await inTransaction(pool, async (tx) => { await revoke(tx); await appendAudit(tx, { tenantId, actorKeyId, action: 'key.revoked', target: keyId }); });
 */
export async function appendAudit(client: Queryable, entry: AuditEntry): Promise<AuditRecord> {
  const action = AuditAction.parse(entry.action);
  // What is hashed must be what jsonb gives back: plain JSON (no undefined, Dates as strings).
  const details = JSON.parse(JSON.stringify(entry.details ?? {})) as Record<string, unknown>;
  // Fails outside a transaction block, where the head lock below would be released at once.
  await client.query('SAVEPOINT agentrace_audit_append');
  const head = await client.query<{ seq: number; hash: string; ts: string }>(
    `INSERT INTO audit_head AS h (tenant_id, seq, hash, pruned_hash) VALUES ($1, 0, $2, $2)
     ON CONFLICT (tenant_id) DO UPDATE SET seq = h.seq
     RETURNING h.seq, h.hash, ${MILLIS_TEXT("date_trunc('milliseconds', clock_timestamp())")} AS ts`,
    [entry.tenantId, GENESIS_HASH],
  );
  const { seq: headSeq, hash: prevHash, ts } = head.rows[0]!;
  const row = {
    seq: headSeq + 1,
    tenant_id: entry.tenantId,
    ts,
    actor_key_id: entry.actorKeyId,
    action,
    target: entry.target,
    details,
    prev_hash: prevHash,
  };
  const hash = auditRowHash(row);
  const id = randomUUID();
  await client.query(
    `WITH appended AS (
       INSERT INTO audit_log (tenant_id, seq, id, ts, actor_key_id, action, target, details, prev_hash, hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10))
     UPDATE audit_head SET seq = $2, hash = $10 WHERE tenant_id = $1`,
    [
      entry.tenantId,
      row.seq,
      id,
      row.ts,
      row.actor_key_id,
      action,
      row.target,
      JSON.stringify(details),
      prevHash,
      hash,
    ],
  );
  const { tenant_id: _tenant, ...record } = row;
  return { ...record, id, hash };
}

/** Decodes a `GET /v1/audit` cursor (the last seq seen), or null when it is not one of ours. */
export function decodeAuditCursor(cursor: string): number | null {
  const value = decodeCursor(cursor);
  return value && Number.isInteger(value.seq) ? (value.seq as number) : null;
}

/** A tenant's audit rows newest first, before seq `beforeSeq` when paging. */
export async function listAudit(
  db: Queryable,
  tenantId: string,
  query: AuditListQuery,
  beforeSeq: number | null,
): Promise<Page<AuditRecord>> {
  const { rows } = await db.query<AuditRecord>(
    `SELECT ${AUDIT_COLUMNS} FROM audit_log
     WHERE tenant_id = $1 AND ($2::bigint IS NULL OR seq < $2) AND ($3::text IS NULL OR action = $3)
     ORDER BY seq DESC LIMIT $4`,
    [tenantId, beforeSeq, query.action ?? null, query.limit + 1],
  );
  const more = rows.length > query.limit;
  const page = more ? rows.slice(0, query.limit) : rows;
  return {
    data: page,
    next_cursor: more ? encodeCursor({ seq: page[page.length - 1]!.seq }) : null,
  };
}
