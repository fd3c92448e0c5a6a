import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Pool } from 'pg';

export type KeyRole = 'viewer' | 'approver' | 'admin';

/** Who a presented key belongs to. */
export type Principal =
  | { kind: 'ingest'; keyId: string; tenantId: string; projectId: string }
  | { kind: 'user'; keyId: string; tenantId: string; role: KeyRole };

/** Keys start with a recognizable prefix so secret scanners and people can tell what leaked. */
const KEY_PREFIX = 'art_';

const hashSecret = (secret: string) => createHash('sha256').update(secret).digest();

/** A new high-entropy key secret. */
export const generateKeySecret = (): string => KEY_PREFIX + randomBytes(32).toString('base64url');

export interface CreatedKey {
  keyId: string;
  key: string;
}

/**
 * Stores a key (only its SHA-256; the secret is returned once). Keys are 256-bit random, so a fast hash
 * is enough: there is nothing to brute-force.
 */
export async function createKey(
  pool: Pool,
  spec:
    | { tenantId: string; kind: 'ingest'; projectId: string; secret?: string }
    | { tenantId: string; kind: 'user'; role: KeyRole; secret?: string },
): Promise<CreatedKey> {
  const key = spec.secret ?? generateKeySecret();
  const keyId = randomUUID();
  await pool.query(
    `INSERT INTO api_key (id, tenant_id, project_id, kind, role, secret_hash, display_prefix)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      keyId,
      spec.tenantId,
      spec.kind === 'ingest' ? spec.projectId : null,
      spec.kind,
      spec.kind === 'user' ? spec.role : null,
      hashSecret(key),
      key.slice(0, 12),
    ],
  );
  return { keyId, key };
}

/** The principal of a live (not revoked) key, or null. */
export async function authenticateKey(pool: Pool, secret: string): Promise<Principal | null> {
  const hash = hashSecret(secret);
  const { rows } = await pool.query<{
    id: string;
    tenant_id: string;
    project_id: string | null;
    kind: 'ingest' | 'user';
    role: KeyRole | null;
    secret_hash: Buffer;
  }>(
    `SELECT id, tenant_id, project_id, kind, role, secret_hash FROM api_key
     WHERE secret_hash = $1 AND revoked_at IS NULL`,
    [hash],
  );
  const row = rows[0];
  if (!row || !timingSafeEqual(row.secret_hash, hash)) return null;
  return row.kind === 'ingest'
    ? { kind: 'ingest', keyId: row.id, tenantId: row.tenant_id, projectId: row.project_id! }
    : { kind: 'user', keyId: row.id, tenantId: row.tenant_id, role: row.role! };
}

export interface NewTenant {
  tenantId: string;
  projectId: string;
  adminKey: CreatedKey;
  ingestKey: CreatedKey;
}

/** Creates a tenant with a default project, an admin key and an ingest key for that project. */
export async function createTenant(
  pool: Pool,
  name: string,
  secrets: { adminKey?: string; ingestKey?: string } = {},
): Promise<NewTenant> {
  const tenantId = randomUUID();
  const projectId = randomUUID();
  await pool.query('INSERT INTO tenant (id, name) VALUES ($1, $2)', [tenantId, name]);
  await pool.query('INSERT INTO project (id, tenant_id, name) VALUES ($1, $2, $3)', [projectId, tenantId, 'default']);
  const adminKey = await createKey(pool, { tenantId, kind: 'user', role: 'admin', secret: secrets.adminKey });
  const ingestKey = await createKey(pool, { tenantId, kind: 'ingest', projectId, secret: secrets.ingestKey });
  return { tenantId, projectId, adminKey, ingestKey };
}

/**
 * On a database with no tenant yet, creates the default tenant and its keys (from `secrets` when given,
 * for automation) and returns them so they can be printed once; otherwise returns null.
 */
export async function bootstrapDefaultTenant(
  pool: Pool,
  secrets: { adminKey?: string; ingestKey?: string },
): Promise<NewTenant | null> {
  const { rows } = await pool.query('SELECT 1 FROM tenant LIMIT 1');
  if (rows.length > 0) return null;
  return createTenant(pool, 'default', secrets);
}

/** The principal of an `Authorization: Bearer <key>` header, or null when absent or not a live key. */
export async function authenticateBearer(pool: Pool, header: string | undefined): Promise<Principal | null> {
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match ? authenticateKey(pool, match[1]!) : null;
}
