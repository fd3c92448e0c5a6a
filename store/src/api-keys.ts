import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { ApiKey, KeyKind, Role } from '@agentrace/schemas';
import type { Pool } from 'pg';
import { appendAudit } from './audit-log.ts';
import type { Queryable } from './connection.ts';
import { TIMESTAMP_TEXT } from './sql-fragments.ts';
import { toApiTime } from './row-mappers.ts';

/** Who a presented key belongs to. */
export type Principal =
  | { kind: 'ingest'; keyId: string; tenantId: string; projectId: string }
  | { kind: 'user'; keyId: string; tenantId: string; role: Role };

/** Keys start with a recognizable prefix so secret scanners and people can tell what leaked. */
const KEY_PREFIX = 'art_';
/** Longer bearer tokens are refused unread: no key of ours is anywhere near this long. */
const MAX_KEY_LENGTH = 512;
/** `last_used_at` is written at most this often per key, not on every request. */
const LAST_USED_RESOLUTION = '60 seconds';

const hashSecret = (secret: string) => createHash('sha256').update(secret).digest();

/** A new high-entropy key secret: the prefix and 256 random bits. */
export const generateKeySecret = (): string => KEY_PREFIX + randomBytes(32).toString('base64url');

/**
 * What may be shown of a key: enough to recognize it, too little to matter. Generated keys show the
 * prefix and 8 random characters (48 of 256 bits); operator-chosen keys, maybe only 16 characters long,
 * show 4.
 */
const displayPrefix = (key: string) => key.slice(0, key.length >= 40 ? 12 : 4);

export interface CreatedKey {
  keyId: string;
  key: string;
}

export type KeySpec = { tenantId: string; secret?: string; expiresAt?: string | null } & (
  | { kind: 'ingest'; projectId: string }
  | { kind: 'user'; role: Role }
);

/**
 * Stores a key (only its SHA-256; the secret is returned once). Keys are 256-bit random, so a fast hash
 * is enough: there is nothing to brute-force. Not audited: `issueKey` is the audited way.
 */
export async function createKey(db: Queryable, spec: KeySpec): Promise<CreatedKey> {
  const key = spec.secret ?? generateKeySecret();
  const keyId = randomUUID();
  await db.query(
    `INSERT INTO api_key (id, tenant_id, project_id, kind, role, secret_hash, display_prefix, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      keyId,
      spec.tenantId,
      spec.kind === 'ingest' ? spec.projectId : null,
      spec.kind,
      spec.kind === 'user' ? spec.role : null,
      hashSecret(key),
      displayPrefix(key),
      spec.expiresAt ?? null,
    ],
  );
  return { keyId, key };
}

/**
 * Creates a key and records it in the audit log; in the caller's transaction. An ingest key's project
 * must be the tenant's: null when it is not (the caller answers 404).
 */
export async function issueKey(
  client: Queryable,
  spec: KeySpec,
  actorKeyId: string | null,
): Promise<CreatedKey | null> {
  if (spec.kind === 'ingest') {
    const { rowCount } = await client.query('SELECT 1 FROM project WHERE tenant_id = $1 AND id = $2', [
      spec.tenantId,
      spec.projectId,
    ]);
    if (rowCount === 0) return null;
  }
  const created = await createKey(client, spec);
  await appendAudit(client, {
    tenantId: spec.tenantId,
    actorKeyId,
    action: 'key.created',
    target: created.keyId,
    details: {
      kind: spec.kind,
      role: spec.kind === 'user' ? spec.role : null,
      project_id: spec.kind === 'ingest' ? spec.projectId : null,
      prefix: displayPrefix(created.key),
      expires_at: spec.expiresAt ?? null,
    },
  });
  return created;
}

const KEY_COLUMNS = `id AS key_id, kind, role, project_id, display_prefix AS prefix,
  ${TIMESTAMP_TEXT('created_at')} AS created_at, ${TIMESTAMP_TEXT('last_used_at')} AS last_used_at,
  ${TIMESTAMP_TEXT('expires_at')} AS expires_at, ${TIMESTAMP_TEXT('revoked_at')} AS revoked_at`;

const toApiKey = (row: ApiKey): ApiKey => ({
  ...row,
  created_at: toApiTime(row.created_at),
  last_used_at: row.last_used_at && toApiTime(row.last_used_at),
  expires_at: row.expires_at && toApiTime(row.expires_at),
  revoked_at: row.revoked_at && toApiTime(row.revoked_at),
});

/** A tenant's keys, newest first, revoked ones included; never a secret or a hash. */
export async function listKeys(db: Queryable, tenantId: string): Promise<ApiKey[]> {
  const { rows } = await db.query<ApiKey>(
    `SELECT ${KEY_COLUMNS} FROM api_key WHERE tenant_id = $1 ORDER BY created_at DESC, id`,
    [tenantId],
  );
  return rows.map(toApiKey);
}

/**
 * Revokes a key (effective on its next request: keys are not cached) and audits it; revoking a revoked
 * key changes nothing. Null when the tenant has no such key.
 */
export async function revokeKey(
  client: Queryable,
  tenantId: string,
  keyId: string,
  actorKeyId: string | null,
): Promise<ApiKey | null> {
  const revoked = await client.query<ApiKey>(
    `UPDATE api_key SET revoked_at = now() WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL
     RETURNING ${KEY_COLUMNS}`,
    [tenantId, keyId],
  );
  if (revoked.rows[0]) {
    const key = toApiKey(revoked.rows[0]);
    await appendAudit(client, {
      tenantId,
      actorKeyId,
      action: 'key.revoked',
      target: keyId,
      details: { kind: key.kind, role: key.role, project_id: key.project_id, prefix: key.prefix },
    });
    return key;
  }
  const { rows } = await client.query<ApiKey>(
    `SELECT ${KEY_COLUMNS} FROM api_key WHERE tenant_id = $1 AND id = $2`,
    [tenantId, keyId],
  );
  return rows[0] ? toApiKey(rows[0]) : null;
}

/**
 * The principal of a live key (not revoked, not expired), or null. One statement, on the owner's
 * connection (the tenant is not known yet): it also moves `last_used_at`, at most once a minute per key.
 */
export async function authenticateKey(pool: Pool, secret: string): Promise<Principal | null> {
  if (secret.length > MAX_KEY_LENGTH) return null;
  const hash = hashSecret(secret);
  const { rows } = await pool.query<{
    id: string;
    tenant_id: string;
    project_id: string | null;
    kind: KeyKind;
    role: Role | null;
    secret_hash: Buffer;
  }>(
    `WITH live AS (
       SELECT id, tenant_id, project_id, kind, role, secret_hash FROM api_key
       WHERE secret_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
     ), touched AS (
       UPDATE api_key k SET last_used_at = now() FROM live
       WHERE k.id = live.id AND (k.last_used_at IS NULL OR k.last_used_at < now() - interval '${LAST_USED_RESOLUTION}')
     )
     SELECT * FROM live`,
    [hash],
  );
  const row = rows[0];
  if (!row || !timingSafeEqual(row.secret_hash, hash)) return null;
  return row.kind === 'ingest'
    ? { kind: 'ingest', keyId: row.id, tenantId: row.tenant_id, projectId: row.project_id! }
    : { kind: 'user', keyId: row.id, tenantId: row.tenant_id, role: row.role! };
}

/** The principal of an `Authorization: Bearer <key>` header, or null when absent, malformed or not a live key. */
export async function authenticateBearer(pool: Pool, header: string | undefined): Promise<Principal | null> {
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match ? authenticateKey(pool, match[1]!) : null;
}
