export { AGENTRACE, GEN_AI, OTEL } from './attributes.ts';
export {
  InvocationKind,
  MODEL_STEP_TYPES,
  RunStatus,
  StepStatus,
  StepType,
} from './domain.ts';
export { ErrorCode, ErrorEnvelope, HTTP_STATUS_OF } from './errors.ts';
export {
  InvocationFilters,
  InvocationListQuery,
  RunListQuery,
  StepListQuery,
  UuidParam,
} from './query.ts';
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
