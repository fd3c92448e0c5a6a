import type { BackupService } from '@agentrace/query-api';
import type { Logger } from 'pino';

/** How often the schedule looks whether a backup is due: the interval, or a minute when that is longer. */
const MAX_CHECK_MS = 60_000;

const NAMED: Record<string, number> = { hourly: 3_600_000, daily: 86_400_000 };
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000 };

/** `AGENTRACE_BACKUP_SCHEDULE` as milliseconds between backups; null for `off`. */
export function scheduleIntervalMs(schedule: string): number | null {
  if (schedule === 'off') return null;
  return NAMED[schedule] ?? Number(schedule.slice(0, -1)) * UNIT_MS[schedule.slice(-1)]!;
}

export interface BackupSchedule {
  /** Stops looking (a backup in progress goes on; `BackupService.close` waits for it). */
  stop(): void;
}

/**
 * Backs up every `intervalMs`: looks at start and then every interval (at most a minute apart) whether a
 * backup is due (`BackupService.startScheduled`: none started or ended within the interval, kept in the
 * database, so restarts and several server processes keep one schedule).
 * @example const schedule = startBackupSchedule({ service, intervalMs: 86_400_000, logger }); ...; schedule.stop();
 */
export function startBackupSchedule(options: {
  service: BackupService;
  intervalMs: number;
  logger: Logger;
}): BackupSchedule {
  let checking = false;
  const check = async () => {
    if (checking) return;
    checking = true;
    try {
      await options.service.startScheduled(options.intervalMs);
    } catch (err) {
      options.logger.error({ err }, 'could not start the scheduled backup; trying again at the next check');
    } finally {
      checking = false;
    }
  };
  const timer = setInterval(check, Math.min(options.intervalMs, MAX_CHECK_MS));
  timer.unref();
  void check();
  return { stop: () => clearInterval(timer) };
}
