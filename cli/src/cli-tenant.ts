import { listTenants, type Queryable } from '@agentrace/store';

/**
 * The tenant a data command works on: `--tenant`, or the only tenant there is (the usual single-tenant
 * deployment). Throws, naming the choices, when it cannot tell.
 */
export async function chooseTenant(db: Queryable, given: string | undefined): Promise<string> {
  const tenants = await listTenants(db);
  if (given) {
    if (!tenants.some((t) => t.tenant_id === given)) throw new Error(`no tenant ${given}`);
    return given;
  }
  if (tenants.length === 1) return tenants[0]!.tenant_id;
  const names = tenants.map((t) => `${t.tenant_id} (${t.name})`).join(', ');
  throw new Error(
    `there are ${tenants.length} tenants: choose one with --tenant ID${names ? `: ${names}` : ''}`,
  );
}
