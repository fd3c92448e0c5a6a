import { createTenant } from '@agentrace/store';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { openDatabase } from './database.ts';

/** `agentrace tenants create NAME [--json]`: prints the new tenant's ids and keys (shown once). */
export async function createTenantCommand(config: Config, logger: Logger, name: string, json: boolean): Promise<number> {
  const db = await openDatabase(config, logger, 2);
  try {
    const t = await createTenant(db.pool, name);
    const out = {
      tenant_id: t.tenantId,
      project_id: t.projectId,
      admin_key: t.adminKey.key,
      ingest_key: t.ingestKey.key,
    };
    process.stdout.write(
      json ? `${JSON.stringify(out)}\n` : `${Object.entries(out).map(([k, v]) => `${k.padEnd(11)} ${v}`).join('\n')}\n`,
    );
    return 0;
  } finally {
    await db.close();
  }
}
