export { type CostRange, costReport } from './cost-report.ts';
export {
  type BackupOutcome,
  createBackupRecord,
  decodeBackupCursor,
  getBackup,
  listBackups,
  operatorTenantId,
  recordBackupError,
  recordBackupSuccess,
  runningBackup,
  scheduledBackupDue,
  startBackupAttempt,
  tryLockBackups,
  unlockBackups,
} from './backup-records.ts';
export {
  type Client,
  connectOutsidePool,
  createPool,
  type Pool,
  type PoolClient,
  type Queryable,
} from './connection.ts';
export { CopyDigest, type CopyDigestResult } from './copy-digest.ts';
export { DbHealth, type DbHealthOptions, isDatabaseUnavailable } from './db-health.ts';
export { type EmbeddedDatabase, freePort, startEmbeddedPostgres } from './embedded.ts';
export {
  countRunsToExport,
  type ExportStep,
  type RunExportFilter,
  streamRunSteps,
  streamRuns,
} from './export-queries.ts';
export type {
  InvocationRecord,
  RenderedRows,
  RenderedStep,
  RunHints,
  StepFacts,
  StepOutcome,
  StepRecord,
  ToolCallFacts,
  WritableStep,
} from './ingest-types.ts';
export { ByteArena } from './byte-arena.ts';
export { noRunHints } from './ingest-types.ts';
export { writeSteps } from './ingest-writer.ts';
export { invocationConditions, listInvocations } from './invocation-queries.ts';
export { invocationStats } from './invocation-stats.ts';
export { knownMigrations, migrate } from './migrate.ts';
export { assertEmptyDatabase, RestoreLoad, RestoreRefused } from './restore-target.ts';
export { type DataTable, schemaVersion } from './schema-catalog.ts';
export { type SnapshotInfo, takeSnapshot } from './snapshot.ts';
export { type CallKey, type CallToPrice, callsToReprice, storeEstimatedCosts } from './repricing.ts';
export {
  type DeclareOutcome,
  declareRun,
  type FinishOutcome,
  finishRun,
  type RunDeclaration,
  stepIdsOfOtherRuns,
} from './native-runs.ts';
export { mergeRun, placeholderRun, type RunState } from './run-merge.ts';
export { decodeTimeCursor, getRun, listRuns, type Page, runVersion, type TimeKey } from './run-queries.ts';
export { decodeSeqCursor, getRunWithSteps, getTimelineJson, listSteps } from './step-queries.ts';
export {
  authenticateBearer,
  authenticateKey,
  type CreatedKey,
  createKey,
  generateKeySecret,
  issueKey,
  type KeySpec,
  listKeys,
  type Principal,
  revokeKey,
} from './api-keys.ts';
export { GENESIS_HASH } from './audit-chain.ts';
export { type AuditEntry, appendAudit, decodeAuditCursor, listAudit } from './audit-log.ts';
export { verifyAuditChain } from './audit-verify.ts';
export { applyRetention, type RetentionOptions, type RetentionOutcome } from './retention.ts';
export {
  bootstrapDefaultTenant,
  createProject,
  createTenant,
  listProjects,
  listTenants,
  type NewTenant,
  setProjectRetention,
} from './tenancy.ts';
export { type BucketLimits, type Take, TokenBuckets } from './token-bucket.ts';
export { APP_ROLE, inTransaction, withTenant } from './transaction.ts';
export {
  COPY_NULL,
  copyBool,
  copyBytea,
  copyNumber,
  copyText,
  copyTextArray,
  INVOCATION_COPY_COLUMNS,
  invocationCopyLine,
  renderStep,
  STEP_COPY_COLUMNS,
  stepCopyLine,
} from './copy-rows.ts';
export { createScratchDatabase, type ScratchDatabase } from './scratch-database.ts';
export { type GovernanceStep, writeGovernanceStep } from './governance-steps.ts';
export {
  APPROVAL_CHANNEL,
  activatePolicy,
  activePolicy,
  type ApprovalRequest,
  createApproval,
  createPolicy,
  currentSigningKey,
  type DecideOutcome,
  decideApproval,
  expireApproval,
  getApproval,
  listApprovals,
  listPolicies,
  recordIssuedToken,
  rotateSigningKey,
  runForDecision,
  type SigningKey,
  signingPublicKeys,
} from './governance.ts';
export {
  compareCursors,
  cursorText,
  type NewStreamEvent,
  parseStreamCursor,
  recordStreamEvents,
  STREAM_CHANNEL,
  type StreamCursor,
  type StreamEvent,
} from './stream-events.ts';
export {
  isBeforeStreamHorizon,
  objectKey,
  pruneStreamEvents,
  readEventRange,
  readEventsAfter,
  renderStreamObjects,
  type StreamFilter,
  streamStart,
} from './stream-queries.ts';
