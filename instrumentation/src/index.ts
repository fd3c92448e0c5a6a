export { attachArtifact, type FileArtifact } from './artifact.ts';
export {
  ApprovalTimeoutError,
  GateRequestError,
  InvalidDecisionTokenError,
  ToolDeniedError,
} from './gate/errors.ts';
export { configureGate, GATE_ENV, GateOptions } from './gate/gate-config.ts';
export { type GuardOptions, guardTool } from './gate/guard-tool.ts';
export { getInstrumentationStats } from './invalid-input.ts';
export { errorTypeOf, InvocationError, type InvocationErrorType } from './invocation-error.ts';
export { logEvent } from './log-event.ts';
export { type ModelCallSpec, traceModelCall } from './model-call.ts';
export { ModelUsage, readModelUsage } from './model-usage.ts';
export { type RunHandle, type RunOptions, run } from './run.ts';
export { type StepOptions, step } from './step.ts';
export { registerTaskType, type TaskType } from './task-types.ts';
export { thought } from './thought.ts';
export { type ToolOptions, traceTool } from './tool.ts';
export { SCOPE_NAME } from './tracer.ts';
