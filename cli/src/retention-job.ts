import { applyRetention, type Pool } from '@agentrace/store';
import type { Logger } from 'pino';

export interface RetentionJob {
  /** Stops the timer and waits for a pass in progress. */
  stop(): Promise<void>;
}

/**
 * Runs a retention pass now and then every `intervalS` seconds (0: never), one at a time; a failed pass
 * is logged and retried at the next tick. Several processes may run it: passes skip rows locked by others.
 * @example const job = startRetentionJob({ pool, intervalS: 3600, auditRetentionDays: 365, logger }); ...; await job.stop();
 */
export function startRetentionJob(options: {
  pool: Pool;
  intervalS: number;
  auditRetentionDays: number;
  logger: Logger;
}): RetentionJob {
  if (options.intervalS === 0) return { stop: async () => undefined };
  let running: Promise<void> | null = null;
  const pass = async () => {
    try {
      const outcome = await applyRetention(options.pool, { auditRetentionDays: options.auditRetentionDays });
      if (outcome.runs > 0 || outcome.auditRows > 0)
        options.logger.info(outcome, 'retention pass deleted expired data');
    } catch (err) {
      options.logger.error({ err }, 'retention pass failed');
    }
  };
  const tick = () => {
    running ??= pass().finally(() => {
      running = null;
    });
  };
  const timer = setInterval(tick, options.intervalS * 1000);
  timer.unref();
  tick();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
