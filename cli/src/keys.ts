import { ApiKey, KeyKind, Role } from '@agentrace/schemas';
import {
  inTransaction,
  issueKey,
  listKeys,
  listTenants,
  type Pool,
  revokeKey,
  rotateSigningKey,
} from '@agentrace/store';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { CommandFlags, Config } from './config.ts';
import { openDatabase } from './database.ts';

/** The flags of `agentrace keys`. */
export const KEYS_FLAGS: CommandFlags = {
  tenant: { type: 'string' },
  kind: { type: 'string' },
  role: { type: 'string' },
  project: { type: 'string' },
  'expires-at': { type: 'string' },
};

export const KEYS_USAGE = `usage: agentrace keys create --tenant ID --kind user --role viewer|approver|admin [--expires-at TIME] [--json]
       agentrace keys create --tenant ID --kind ingest --project ID [--expires-at TIME] [--json]
       agentrace keys list --tenant ID [--json]
       agentrace keys revoke KEY_ID --tenant ID [--json]
       agentrace keys rotate-signing [--json]`;

const Uuid = z.uuid().transform((s) => s.toLowerCase());
const CreateFlags = z
  .object({
    tenant: Uuid,
    kind: KeyKind,
    role: Role.optional(),
    project: Uuid.optional(),
    'expires-at': z.iso.datetime({ offset: true }).optional(),
  })
  .refine((f) => (f.kind === 'user' ? f.role && !f.project : f.project && !f.role), {
    message: 'a user key needs --role (and no --project); an ingest key needs --project (and no --role)',
  });

class UsageError extends Error {}

/**
 * `agentrace keys create|list|revoke`: an operator's key management for any tenant, as the database
 * owner; `rotate-signing` replaces the server's DecisionToken signing key. Every change is audited
 * (actor: none, the operator). Exit code 2 for bad usage, 1 for no such
 * tenant, project or key.
 */
export async function keysCommand(
  config: Config,
  logger: Logger,
  args: string[],
  flags: Record<string, string | undefined>,
  json: boolean,
): Promise<number> {
  const [action, keyId] = args;
  let run: (pool: Pool) => Promise<string | null>;
  try {
    run = commandOf(action, keyId, flags, json);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n${KEYS_USAGE}\n`);
    return 2;
  }
  const db = await openDatabase(config, logger, 2);
  try {
    const out = await run(db.pool);
    if (out === null) return 1;
    process.stdout.write(out);
    return 0;
  } finally {
    await db.close();
  }
}

function parseFlags<S extends z.ZodType>(schema: S, flags: Record<string, string | undefined>): z.infer<S> {
  const parsed = schema.safeParse(flags);
  if (parsed.success) return parsed.data;
  throw new UsageError(
    parsed.error.issues
      .map((i) => (i.path.length ? `--${i.path.join('.')}: ${i.message}` : i.message))
      .join('\n'),
  );
}

const TenantFlag = z.object({ tenant: Uuid });

/** The command to run, its flags checked before the database is opened; it yields the output or null. */
function commandOf(
  action: string | undefined,
  keyId: string | undefined,
  flags: Record<string, string | undefined>,
  json: boolean,
) {
  if (action === 'create') {
    const f = parseFlags(CreateFlags, flags);
    return async (pool: Pool) => {
      if (!(await tenantExists(pool, f.tenant))) return null;
      const base = { tenantId: f.tenant, expiresAt: f['expires-at'] };
      const spec =
        f.kind === 'user'
          ? { ...base, kind: f.kind, role: f.role! }
          : { ...base, kind: f.kind, projectId: f.project! };
      const created = await inTransaction(pool, (tx) => issueKey(tx, spec, null));
      if (!created) return fail(`no project ${f.project} in tenant ${f.tenant}`);
      const out = { key_id: created.keyId, key: created.key };
      return json
        ? `${JSON.stringify(out)}\n`
        : `key_id ${out.key_id}\nkey    ${out.key}\n(the key is shown once; keep it safe)\n`;
    };
  }
  if (action === 'list') {
    const { tenant } = parseFlags(TenantFlag, flags);
    return async (pool: Pool) => {
      if (!(await tenantExists(pool, tenant))) return null;
      const keys = await listKeys(pool, tenant);
      return json ? `${JSON.stringify({ data: keys })}\n` : table(keys);
    };
  }
  if (action === 'revoke' && keyId) {
    const { tenant } = parseFlags(TenantFlag, flags);
    const id = parseFlags(z.object({ key_id: Uuid }), { key_id: keyId }).key_id;
    return async (pool: Pool) => {
      if (!(await tenantExists(pool, tenant))) return null;
      const key = await inTransaction(pool, (tx) => revokeKey(tx, tenant, id, null));
      if (!key) return fail(`no key ${id} in tenant ${tenant}`);
      return json
        ? `${JSON.stringify(ApiKey.parse(key))}\n`
        : `revoked ${key.key_id} (${key.prefix}…) at ${key.revoked_at}\n`;
    };
  }
  if (action === 'rotate-signing' && !keyId) {
    return async (pool: Pool) => {
      const { key, retiredKeyId } = await inTransaction(pool, rotateSigningKey);
      const out = { key_id: key.id, retired_key_id: retiredKeyId };
      return json
        ? `${JSON.stringify(out)}\n`
        : `signing key ${out.key_id} (retired ${out.retired_key_id ?? 'none'}; its tokens verify until they expire)\n`;
    };
  }
  throw new UsageError(action ? `unknown or incomplete keys command "${action}"` : 'keys needs a command');
}

async function tenantExists(pool: Pool, tenantId: string): Promise<boolean> {
  const exists = (await listTenants(pool)).some((t) => t.tenant_id === tenantId);
  if (!exists) fail(`no tenant ${tenantId}`);
  return exists;
}

function fail(message: string): null {
  process.stderr.write(`agentrace keys: ${message}\n`);
  return null;
}

function table(keys: ApiKey[]): string {
  const header = ['key_id', 'kind', 'role/project', 'prefix', 'created_at', 'last_used_at', 'revoked_at'];
  const rows = keys.map((k) => [
    k.key_id,
    k.kind,
    k.role ?? k.project_id ?? '',
    k.prefix,
    k.created_at,
    k.last_used_at ?? '-',
    k.revoked_at ?? '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return `${[header, ...rows]
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}
