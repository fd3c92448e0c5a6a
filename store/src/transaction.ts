import type { Pool, PoolClient } from 'pg';

/** The NOLOGIN role that tenant-scoped work runs as (migration 004); row-level security binds it. */
export const APP_ROLE = 'agentrace_app';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Runs `work` in a transaction as the connecting user (the owner: not bound by row-level security). */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  return transaction(pool, 'BEGIN', work);
}

/**
 * Runs `work` in a transaction as the application role with `tenantId` as the current tenant, so that
 * row-level security confines every statement to that tenant, whatever its own WHERE clause says. Both
 * settings are transaction-local: the pooled connection goes back clean.
 * @example const runs = await withTenant(pool, tenantId, (db) => listRuns(db, tenantId, query, null));
 */
export async function withTenant<T>(
  pool: Pool,
  tenantId: string,
  work: (client: PoolClient) => Promise<T>,
): Promise<T> {
  // Inlined (after this check) so that BEGIN, the role and the tenant take one round trip.
  if (!UUID.test(tenantId)) throw new Error(`withTenant: not a tenant id: ${JSON.stringify(tenantId)}`);
  return transaction(
    pool,
    `BEGIN; SET LOCAL ROLE ${APP_ROLE}; SELECT set_config('agentrace.tenant_id', '${tenantId}', true)`,
    work,
  );
}

async function transaction<T>(
  pool: Pool,
  begin: string,
  work: (client: PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query(begin);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    // A connection that cannot even roll back is not given to anyone else.
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw err;
  } finally {
    client.release(broken);
  }
}
