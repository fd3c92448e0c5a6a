export { HttpError } from '@agentrace/schemas';
export { BackupBucket, type BucketSettings } from './backup/backup-bucket.ts';
export { BackupMetrics } from './backup/backup-metrics.ts';
export { BackupAlreadyRunning, BackupService, type BackupServiceOptions } from './backup/backup-service.ts';
export { ArchiveMismatch, type RestoreReport, restoreBackup } from './backup/restore-backup.ts';
export { diffRuns, type RunWithSteps } from './diff/diff-runs.ts';
export { ChunkWriter } from './export/chunk-writer.ts';
export { writeTrajectory } from './export/trajectory.ts';
export { createQueryApp, type QueryAppDeps } from './query-app.ts';
