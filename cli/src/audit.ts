import type { AuditVerification } from '@agentrace/schemas';
import { inTransaction, listTenants, verifyAuditChain } from '@agentrace/store';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { CommandFlags, Config } from './config.ts';
import { openDatabase } from './database.ts';

/** The flags of `agentrace audit`. */
export const AUDIT_FLAGS: CommandFlags = { tenant: { type: 'string' } };

export const AUDIT_USAGE = 'usage: agentrace audit verify [--tenant ID] [--json]';

const VerifyFlags = z.object({
  tenant: z
    .uuid()
    .transform((s) => s.toLowerCase())
    .optional(),
});

/**
 * `agentrace audit verify`: checks the audit chain of one tenant, or of every tenant, and names each
 * edited, inserted or deleted row. Exit code 0 when every chain is intact, 1 when one is not, 2 for bad
 * usage.
 */
export async function auditCommand(
  config: Config,
  logger: Logger,
  args: string[],
  flags: Record<string, string | undefined>,
  json: boolean,
): Promise<number> {
  const parsed = VerifyFlags.safeParse(flags);
  if (args[0] !== 'verify' || args.length > 1 || !parsed.success) {
    process.stderr.write(`${parsed.success ? '' : '--tenant: must be a tenant id\n'}${AUDIT_USAGE}\n`);
    return 2;
  }
  const db = await openDatabase(config, logger, 2);
  try {
    const tenantIds = parsed.data.tenant
      ? [parsed.data.tenant]
      : (await listTenants(db.pool)).map((t) => t.tenant_id);
    const reports: (AuditVerification & { tenant_id: string })[] = [];
    for (const tenantId of tenantIds) {
      reports.push({
        tenant_id: tenantId,
        ...(await inTransaction(db.pool, (tx) => verifyAuditChain(tx, tenantId))),
      });
    }
    process.stdout.write(json ? `${JSON.stringify({ tenants: reports })}\n` : reports.map(describe).join(''));
    return reports.every((r) => r.ok) ? 0 : 1;
  } finally {
    await db.close();
  }
}

function describe(r: AuditVerification & { tenant_id: string }): string {
  const summary = `tenant ${r.tenant_id}: ${r.ok ? 'intact' : 'TAMPERED'}, ${r.checked} rows, head seq ${r.head.seq} ${r.head.hash}\n`;
  return (
    summary +
    r.problems.map((p) => `  seq ${p.seq}${p.id ? ` (${p.id})` : ''}: ${p.problem}: ${p.message}\n`).join('')
  );
}
