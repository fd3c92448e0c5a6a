import { createPool, type EmbeddedDatabase, migrate, type Pool, startEmbeddedPostgres } from '@agentrace/store';
import type { Logger } from 'pino';
import type { Config } from './config.ts';

export interface OpenDatabase {
  pool: Pool;
  close(): Promise<void>;
}

/**
 * Connects to DATABASE_URL, or starts (or joins) the embedded PostgreSQL of the data dir, and migrates
 * (unless `migrate: false`: a restore migrates to its archive's schema itself).
 */
export async function openDatabase(
  config: Config,
  logger: Logger,
  poolSize = 20,
  options: { migrate?: boolean } = {},
): Promise<OpenDatabase> {
  let embedded: EmbeddedDatabase | null = null;
  let url = config.databaseUrl;
  if (!url) {
    embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, onLog: (line) => logger.debug({ pg: line.trim() }) });
    url = embedded.url;
    logger.info({ dataDir: config.dataDir, joined: !embedded.owned }, 'embedded PostgreSQL ready');
  }
  const pool = createPool(url, poolSize);
  if (options.migrate !== false) {
    const { applied } = await migrate(pool);
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');
  }
  return {
    pool,
    async close() {
      await pool.end();
      await embedded?.stop();
    },
  };
}
