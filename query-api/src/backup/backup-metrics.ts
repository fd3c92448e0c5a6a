import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * Backup results in the process's one registry: `agentrace_backups_total{result}` (a backup that
 * succeeded, or failed after its attempts), and the latest success's time, duration and size.
 * @example const metrics = new BackupMetrics(registry);
 */
export class BackupMetrics {
  private readonly results: Counter<'result'>;
  private readonly lastSuccess: Gauge;
  private readonly lastDuration: Gauge;
  private readonly lastSize: Gauge;

  constructor(registry: Registry) {
    this.results = new Counter({
      name: 'agentrace_backups_total',
      help: 'Backups by result: succeeded, or failed (every attempt of the cycle failed).',
      labelNames: ['result'],
      registers: [registry],
    });
    // Both results are shown from the start, so an alert on failures sees 0 rather than nothing.
    this.results.inc({ result: 'succeeded' }, 0);
    this.results.inc({ result: 'failed' }, 0);
    this.lastSuccess = new Gauge({
      name: 'agentrace_backup_last_success_timestamp_seconds',
      help: 'When the latest successful backup finished (Unix time); 0 before the first one.',
      registers: [registry],
    });
    this.lastDuration = new Gauge({
      name: 'agentrace_backup_last_duration_seconds',
      help: 'How long the latest successful backup took, snapshot to upload.',
      registers: [registry],
    });
    this.lastSize = new Gauge({
      name: 'agentrace_backup_last_size_bytes',
      help: 'Size of the latest successful backup archive (compressed).',
      registers: [registry],
    });
  }

  succeeded(durationS: number, archiveBytes: number): void {
    this.results.inc({ result: 'succeeded' });
    this.lastSuccess.set(Date.now() / 1000);
    this.lastDuration.set(durationS);
    this.lastSize.set(archiveBytes);
  }

  failed(): void {
    this.results.inc({ result: 'failed' });
  }
}
