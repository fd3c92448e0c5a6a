export {
  type Access,
  type Caller,
  describeAccess,
  ENDPOINTS,
  type Endpoint,
  type HttpMethod,
  permits,
  routePathParts,
} from './access.ts';
export { AgentEvent } from './agent-events.ts';
export {
  Backup,
  BackupListQuery,
  BackupStarted,
  BackupManifest,
  BackupStatus,
  BackupTrigger,
  ManifestTable,
} from './backup.ts';
export { AGENTRACE, GEN_AI, OTEL } from './attributes.ts';
export { canonicalJson, sha256Tagged } from './canonical-json.ts';
export {
  GovernanceViolation,
  InvocationKind,
  MODEL_STEP_TYPES,
  RunStatus,
  StepStatus,
  StepType,
} from './domain.ts';
export { CostGroupBy, CostQuery, CostRow, CostSource } from './cost.ts';
export {
  DIFF_METRICS,
  type DiffMetric,
  DiffOp,
  DiffQuery,
  DiffStep,
  MetricDelta,
  NormalizeProfile,
  RunDiff,
  StepChange,
} from './diff.ts';
export { ErrorCode, ErrorEnvelope, HTTP_STATUS_OF } from './errors.ts';
export { RunExportQuery } from './export.ts';
export {
  ApiKey,
  AuditAction,
  AuditListQuery,
  AuditRecord,
  AuditVerification,
  CreatedKey,
  CreateKeyBody,
  CreateProjectBody,
  KeyKind,
  Project,
  Role,
  SetRetentionBody,
} from './governance.ts';
export {
  type ErrorHandlerOptions,
  errorHandler,
  HttpError,
  notFound,
  parseBody,
  parseId,
  UNAVAILABLE_RETRY_AFTER_SECONDS,
} from './http-error.ts';
export {
  AssignedSteps,
  CreateRunBody,
  FinishRunBody,
  NativeStep,
  parseStepBatch,
  StepBatchBody,
} from './native-ingest.ts';
export {
  EmptyQuery,
  InvocationFilters,
  InvocationListQuery,
  RunListQuery,
  StepListQuery,
  StreamEventType,
  StreamQuery,
  TraceIdHex,
  UuidParam,
} from './query.ts';
export { KNOWN_TASK_TYPES, KnownTaskType, TaskTypeName } from './task-types.ts';
export {
  ArtifactStatsQuery,
  InvocationStatsQuery,
  InvocationStatsRow,
  StatsGroupBy,
} from './stats.ts';
export {
  Invocation,
  listOf,
  RedactionMeta,
  Run,
  Step,
  StepError,
  StepPayload,
  Timeline,
  TimelineStep,
} from './wire.ts';
export {
  ApprovalActionBody,
  Approval,
  ApprovalGetQuery,
  ApprovalListQuery,
  ApprovalStatus,
  ArgCondition,
  ArgPath,
  BreakGlassBody,
  CreatePolicyBody,
  DecisionBody,
  DecisionResult,
  evaluatePolicy,
  MAX_APPROVAL_WAIT_MS,
  Policy,
  type PolicyCall,
  PolicyDocument,
  PolicyEffect,
  PolicyListQuery,
  PolicyRule,
  type PolicyVerdict,
  toolMatches,
  valueAt,
} from './policy.ts';
export {
  argsHash,
  DecisionClaims,
  DecisionPublicKeys,
  newClaims,
  signDecisionToken,
  type TokenCheck,
  verifyDecisionToken,
} from './decision-token.ts';
