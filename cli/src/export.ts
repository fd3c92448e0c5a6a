import type { Writable } from 'node:stream';
import { ChunkWriter, writeTrajectory } from '@agentrace/query-api';
import { countRunsToExport, streamRunSteps, streamRuns, withTenant } from '@agentrace/store';
import type { Logger } from 'pino';
import { z } from 'zod';
import { chooseTenant } from './cli-tenant.ts';
import type { CommandFlags, Config } from './config.ts';
import { openDatabase } from './database.ts';
import { ProgressBar } from './progress-bar.ts';

/** The flags of `agentrace export`. */
export const EXPORT_FLAGS: CommandFlags = {
  since: { type: 'string' },
  until: { type: 'string' },
  project: { type: 'string' },
  tenant: { type: 'string' },
};

export const EXPORT_USAGE =
  'usage: agentrace export [--since TIME] [--until TIME] [--project ID] [--tenant ID] > runs.jsonl';

const Time = z.iso.datetime({ offset: true }).transform((s) => new Date(s));
const ExportFlags = z.object({
  since: Time.optional(),
  until: Time.optional(),
  project: z.uuid().optional(),
  tenant: z.uuid().optional(),
});

/**
 * `agentrace export`: the runs started in [--since, --until) as JSON lines on stdout, one run per line with
 * its steps (a trajectory), oldest first, in constant memory: runs and steps are read through server-side
 * cursors and written as they come. A progress bar goes to stderr when it is a terminal.
 */
export async function exportCommand(
  config: Config,
  logger: Logger,
  args: string[],
  flags: Record<string, string | undefined>,
  out: Writable = process.stdout,
): Promise<number> {
  const parsed = ExportFlags.safeParse(flags);
  if (args.length > 0 || !parsed.success) {
    const problems = parsed.success
      ? `unexpected "${args.join(' ')}"`
      : parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('\n');
    process.stderr.write(`${problems}\n${EXPORT_USAGE}\n`);
    return 2;
  }
  const f = parsed.data;
  const filter = { since: f.since, until: f.until, projectId: f.project };
  // Two connections: one holds the cursor over runs, the other reads each run's steps.
  const db = await openDatabase(config, logger, 2);
  try {
    const tenantId = await chooseTenant(db.pool, f.tenant);
    const total = await withTenant(db.pool, tenantId, (tx) => countRunsToExport(tx, tenantId, filter));
    const progress = new ProgressBar(process.stderr, 'exporting runs', total);
    const writer = new ChunkWriter(out);
    await withTenant(db.pool, tenantId, async (runsTx) => {
      for await (const run of streamRuns(runsTx, tenantId, filter)) {
        await withTenant(db.pool, tenantId, (stepsTx) =>
          writeTrajectory(writer, run, streamRunSteps(stepsTx, tenantId, run.run_id)),
        );
        progress.tick();
      }
    });
    await writer.flush();
    progress.finish();
    return 0;
  } finally {
    await db.close();
  }
}
