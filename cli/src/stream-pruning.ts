import { type Pool, pruneStreamEvents } from '@agentrace/store';
import type { Logger } from 'pino';

export interface StreamPruning {
  /** Stops the timer and waits for a pass in progress. */
  stop(): Promise<void>;
}

/**
 * Deletes live stream events older than `retentionS`, every tenth of it (at most every 5 minutes), so the
 * event log stays a bounded window. Several processes may run it: a batch another one deleted first is
 * simply empty.
 * @example const pruning = startStreamPruning({ pool, retentionS: 3600, logger }); ...; await pruning.stop();
 */
export function startStreamPruning(options: {
  pool: Pool;
  retentionS: number;
  logger: Logger;
}): StreamPruning {
  let running: Promise<void> | null = null;
  const tick = () => {
    running ??= pruneStreamEvents(options.pool, new Date(Date.now() - options.retentionS * 1000))
      .then(
        (deleted) => {
          if (deleted > 0) options.logger.debug({ deleted }, 'live stream events pruned');
        },
        (err: unknown) => options.logger.error({ err }, 'pruning live stream events failed'),
      )
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, Math.min(300, options.retentionS / 10) * 1000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
