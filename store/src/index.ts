export { createPool, type Pool, type PoolClient } from './connection.ts';
export { type EmbeddedDatabase, freePort, startEmbeddedPostgres } from './embedded.ts';
export type { InvocationRecord, RunHints, StepOutcome, StepRecord } from './ingest-types.ts';
export { writeSteps } from './ingest-writer.ts';
export { invocationConditions, listInvocations } from './invocation-queries.ts';
export { migrate } from './migrate.ts';
export {
  type DeclareOutcome,
  declareRun,
  type FinishOutcome,
  finishRun,
  type RunDeclaration,
  stepIdsOfOtherRuns,
} from './native-runs.ts';
export { mergeRun, placeholderRun, type RunState } from './run-merge.ts';
export { decodeTimeCursor, getRun, listRuns, type Page, type TimeKey } from './run-queries.ts';
export { decodeSeqCursor, getTimeline, listSteps } from './step-queries.ts';
export {
  authenticateBearer,
  authenticateKey,
  bootstrapDefaultTenant,
  type CreatedKey,
  createKey,
  createTenant,
  type KeyRole,
  type NewTenant,
  type Principal,
} from './tenancy.ts';
