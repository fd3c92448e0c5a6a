/**
 * Backup and restore of a realistic database, on a real S3-compatible server (s3rver) on loopback:
 * BENCH_STEPS steps (default 100,000) of realistic agent runs are written, then a backup is taken while
 * the ingest writer keeps writing 512-step batches (their latency is compared with the same batches before
 * the backup), then the backup is restored into a fresh database. Prints sizes, the compression ratio,
 * throughput, the process's peak memory during the backup, and the writer's batch latency.
 * `npm run bench:backup`.
 */
import { randomUUID } from 'node:crypto';
import { BackupBucket, BackupMetrics, BackupService, restoreBackup } from '@agentrace/query-api';
import { startTestS3 } from '@agentrace/query-api/testing';
import { Registry } from '@agentrace/receiver';
import { createScratchDatabase, createTenant, type StepRecord, writeSteps } from '@agentrace/store';
import { pino } from 'pino';
import { agentRunRecords } from './agent-runs.ts';
import { openBenchDatabase, quantile } from './bench-database.ts';

const STEPS = Number(process.env.BENCH_STEPS ?? 100_000);
const STEPS_PER_RUN = 100;
const MB = 1024 * 1024;

const db = await openBenchDatabase();
const s3 = await startTestS3();
const bucket = new BackupBucket(s3.settings());
const tenant = await createTenant(db.pool, 'bench');
let made = 0;
let run = 0;
const nextBatch = (): StepRecord[] => {
  const records: StepRecord[] = [];
  while (records.length < 512) {
    records.push(
      ...agentRunRecords({
        ...tenant,
        steps: STEPS_PER_RUN,
        startMs: Date.UTC(2026, 0, 1) + run * 60_000,
        seed: run,
        runId: randomUUID(),
      }),
    );
    run++;
  }
  return records;
};
process.stdout.write(`writing ${STEPS} steps...\n`);
while (made < STEPS) {
  const batch = nextBatch();
  await writeSteps(db.pool, batch);
  made += batch.length;
}

/** Writes batches until `until` resolves (or `count` batches); their latencies in ms. */
async function writeWhile(until: Promise<unknown> | null, count: number): Promise<number[]> {
  let done = false;
  until?.finally(() => {
    done = true;
  });
  const latencies: number[] = [];
  while (until ? !done : latencies.length < count) {
    const batch = nextBatch();
    const t0 = performance.now();
    await writeSteps(db.pool, batch);
    latencies.push(performance.now() - t0);
  }
  return latencies;
}

const before = await writeWhile(null, 20);
const service = new BackupService({
  pool: db.pool,
  bucket,
  logger: pino({ level: 'warn' }),
  metrics: new BackupMetrics(new Registry()),
});
const rssBefore = process.memoryUsage().rss;
let peakRss = rssBefore;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 20);
const t0 = performance.now();
const { done } = await service.start('cli', null);
const during = await writeWhile(done, 0);
const backup = await done;
const seconds = (performance.now() - t0) / 1000;
clearInterval(sampler);
if (backup.status !== 'succeeded') throw new Error(`backup failed: ${backup.error}`);

const target = await createScratchDatabase(db.adminUrl, 'agentrace_bench_restore');
const r0 = performance.now();
const report = await restoreBackup(bucket, backup.backup_id, target.pool);
const restoreSeconds = (performance.now() - r0) / 1000;

const raw = backup.raw_bytes!;
const archive = backup.archive_bytes!;
const stepRows = backup.table_rows!.step!;
console.log(`
backup of ${stepRows} steps (${Object.values(backup.table_rows!).reduce((a, n) => a + n, 0)} rows in ${Object.keys(backup.table_rows!).length} tables)
  raw COPY text   ${(raw / MB).toFixed(1)} MiB
  archive (gzip -9) ${(archive / MB).toFixed(1)} MiB, ratio ${backup.compression_ratio!.toFixed(3)} (target <= 0.5)
  backup          ${seconds.toFixed(1)} s (${(raw / MB / seconds).toFixed(1)} MiB/s of raw data), ${backup.attempts} attempt
  peak RSS        +${((peakRss - rssBefore) / MB).toFixed(0)} MiB over the ${(rssBefore / MB).toFixed(0)} MiB before (writer batches included)
  writer batches of 512 steps: p50 ${quantile(before, 0.5).toFixed(0)} ms / p99 ${quantile(before, 0.99).toFixed(0)} ms before, p50 ${quantile(during, 0.5).toFixed(0)} ms / p99 ${quantile(during, 0.99).toFixed(0)} ms during the backup (${during.length} batches)
restore into a fresh database: ${restoreSeconds.toFixed(1)} s (${(raw / MB / restoreSeconds).toFixed(1)} MiB/s), ${report.tables.length} tables verified
`);
await service.close();
bucket.destroy();
await target.drop();
await s3.close();
await db.close();
