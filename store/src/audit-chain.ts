import { type AuditRecord, canonicalJson, sha256Tagged } from '@agentrace/schemas';

/** The prev_hash of a tenant's first audit row. */
export const GENESIS_HASH = `sha256:${'0'.repeat(64)}`;

/** A row's hash: over the canonical JSON of every field but the hash itself (prev_hash included). */
export function auditRowHash(row: Omit<AuditRecord, 'hash' | 'id'> & { tenant_id: string }): string {
  return sha256Tagged(
    canonicalJson({
      seq: row.seq,
      tenant_id: row.tenant_id,
      ts: row.ts,
      actor_key_id: row.actor_key_id,
      action: row.action,
      target: row.target,
      details: row.details,
      prev_hash: row.prev_hash,
    }),
  );
}
