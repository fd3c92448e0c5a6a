import { CostGroupBy, type CostRow } from '@agentrace/schemas';
import { Pricing } from '@agentrace/receiver';
import {
  type CallKey,
  type CostRange,
  callsToReprice,
  costReport,
  inTransaction,
  listTenants,
  type Pool,
  storeEstimatedCosts,
  withTenant,
} from '@agentrace/store';
import type { Logger } from 'pino';
import { z } from 'zod';
import { chooseTenant } from './cli-tenant.ts';
import type { CommandFlags, Config } from './config.ts';
import { openDatabase } from './database.ts';
import { textTable } from './text-table.ts';

/** The flags of `agentrace cost`. */
export const COST_FLAGS: CommandFlags = {
  'group-by': { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  tenant: { type: 'string' },
};

export const COST_USAGE = `usage: agentrace cost [--group-by agent|model|provider|project|day] [--since TIME] [--until TIME] [--tenant ID] [--json]
       agentrace cost recompute --since TIME [--until TIME] [--tenant ID] [--json]`;

const Time = z.iso.datetime({ offset: true }).transform((s) => new Date(s));
const ReportFlags = z.object({
  'group-by': CostGroupBy.default('day'),
  since: Time.optional(),
  until: Time.optional(),
  tenant: z.uuid().optional(),
});
const RecomputeFlags = z.object({ since: Time, until: Time.optional(), tenant: z.uuid().optional() });

const BATCH = 1000;
const RETRYABLE = new Set(['40P01', '40001']);

/**
 * `agentrace cost`: the model spend of a tenant per agent, model, provider, project or day (a table, or JSON
 * with --json). `agentrace cost recompute`: re-prices stored calls with the current price table (after a
 * price change, or a pricing file) and recomputes their runs' totals; reported costs are kept.
 */
export async function costCommand(
  config: Config,
  logger: Logger,
  args: string[],
  flags: Record<string, string | undefined>,
  json: boolean,
): Promise<number> {
  const recompute = args[0] === 'recompute';
  if (args.length > (recompute ? 1 : 0)) return usage(`unknown cost command "${args.join(' ')}"`);
  const parsed = (recompute ? RecomputeFlags : ReportFlags).safeParse(flags);
  if (!parsed.success)
    return usage(parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('\n'));
  const db = await openDatabase(config, logger, 2);
  try {
    if (recompute) {
      const f = parsed.data as z.infer<typeof RecomputeFlags>;
      const tenants = f.tenant
        ? [await chooseTenant(db.pool, f.tenant)]
        : (await listTenants(db.pool)).map((t) => t.tenant_id);
      const pricing = Pricing.load(config.pricingFile);
      const totals = { calls: 0, changed: 0, runs: 0 };
      for (const tenantId of tenants) {
        const done = await recomputeTenant(db.pool, pricing, tenantId, f);
        totals.calls += done.calls;
        totals.changed += done.changed;
        totals.runs += done.runs;
      }
      process.stdout.write(
        json
          ? `${JSON.stringify({ priced_calls: totals.calls, changed_calls: totals.changed, changed_runs: totals.runs })}\n`
          : `re-priced ${totals.calls} calls: ${totals.changed} changed, in ${totals.runs} runs\n`,
      );
      return 0;
    }
    const f = parsed.data as z.infer<typeof ReportFlags>;
    const tenantId = await chooseTenant(db.pool, f.tenant);
    const rows = await withTenant(db.pool, tenantId, (tx) => costReport(tx, tenantId, f['group-by'], f));
    process.stdout.write(json ? `${JSON.stringify({ data: rows })}\n` : costTable(f['group-by'], rows));
    return 0;
  } finally {
    await db.close();
  }
}

/** Re-prices one tenant's calls batch by batch, each batch with its runs' totals in one transaction. */
async function recomputeTenant(pool: Pool, pricing: Pricing, tenantId: string, range: CostRange) {
  const done = { calls: 0, changed: 0, runs: 0 };
  let after: CallKey | null = null;
  for (;;) {
    const calls = await callsToReprice(pool, tenantId, range, after, BATCH);
    if (calls.length === 0) return done;
    const costs = calls.map((c) => ({ id: c.id, costUsd: pricing.estimate(c.model, c, c.startedAt) }));
    const stored = await retried(() => inTransaction(pool, (tx) => storeEstimatedCosts(tx, tenantId, costs)));
    done.calls += calls.length;
    done.changed += stored.calls;
    done.runs += stored.runs;
    const last = calls[calls.length - 1]!;
    after = { startedAt: last.startedAt, id: last.id };
  }
}

/** Runs `work` again when it lost a deadlock to ingest (which locks the same runs). */
async function retried<T>(work: () => Promise<T>, attempts = 4): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (attempt >= attempts || !RETRYABLE.has((err as { code?: string }).code ?? '')) throw err;
    }
  }
}

function costTable(groupBy: CostGroupBy, rows: CostRow[]): string {
  const usd = (v: number | null) => (v === null ? null : Number(v.toFixed(6)));
  return textTable(
    [groupBy, 'cost_usd', 'input_tokens', 'output_tokens', 'invocations', 'unpriced'],
    rows.map((r) => [
      r.key ?? '(none)',
      usd(r.cost_usd),
      r.input_tokens,
      r.output_tokens,
      r.invocations,
      r.unpriced_invocations,
    ]),
  );
}

function usage(message: string): number {
  process.stderr.write(`${message}\n${COST_USAGE}\n`);
  return 2;
}
