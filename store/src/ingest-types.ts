import type {
  GovernanceViolation,
  InvocationKind,
  RunStatus,
  StepStatus,
  StepType,
} from '@agentrace/schemas';

/** What a step says about its run; merged into the run row at ingest (see run-merge.ts). */
export interface RunHints {
  /** The root span of the run (no parent): it sets the run's name, times and final status. */
  isRoot: boolean;
  name: string | null;
  explicitStatus: RunStatus | null;
  sessionId: string | null;
  userId: string | null;
  agentName: string | null;
  parentRunId: string | null;
  tags: Record<string, string>;
}

/**
 * The hints of a step that says nothing about its run but that it exists (not its root).
 * @example const run: RunHints = { ...noRunHints(), agentName: 'planner' };
 */
export function noRunHints(): RunHints {
  return {
    isRoot: false,
    name: null,
    explicitStatus: null,
    sessionId: null,
    userId: null,
    agentName: null,
    parentRunId: null,
    tags: {},
  };
}

export interface InvocationRecord {
  kind: InvocationKind;
  target: string;
  method: string | null;
  invoker: string | null;
  taskType: string | null;
  provider: string | null;
  model: string | null;
  toolName: string | null;
  artifactId: string | null;
  success: boolean;
  errorType: string | null;
  errorMessage: string | null;
  latencyMs: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  cachedInputTokens: number | null;
  cacheWriteTokens: number | null;
  reasoningTokens: number | null;
  costUsd: number | null;
  costSource: 'reported' | 'estimated' | null;
}

/** One normalized, redacted, priced step ready to be written; the ingest writer's input. */
export interface StepRecord {
  tenantId: string;
  projectId: string;
  runId: string;
  /**
   * A client-chosen step id (native REST `step_id`): stored as the step's id and deduplicated on under the
   * run lock, so a retried batch is stored once. Spans have none (they are deduplicated on their span id).
   */
  stepId?: string;
  traceId: Buffer | null;
  spanId: Buffer | null;
  parentSpanId: Buffer | null;
  parentStepId: string | null;
  /** RFC 3339 UTC with microseconds, e.g. `2026-01-02T03:04:05.123456Z`: sorts as text. */
  ts: string;
  endTs: string | null;
  durationMs: number | null;
  type: StepType;
  name: string;
  status: StepStatus;
  errorType: string | null;
  errorMessage: string | null;
  errorStack: string | null;
  model: string | null;
  requestModel: string | null;
  provider: string | null;
  toolName: string | null;
  agentName: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  costUsd: number | null;
  decisionTokenId: string | null;
  /** The stored payload as JSON text (canonical: its hash is `payloadHash`). */
  payloadJson: string;
  payloadHash: string;
  redactionMeta: unknown;
  schemaVersion: number;
  /** Resource and scope as JSON text; shared by all spans of one resource, so serialized once. */
  resourceJson: string | null;
  scopeJson: string | null;
  invocation: InvocationRecord | null;
  /**
   * A tool step's call, for the governance binding (binding.ts): the arguments as the agent sent them,
   * before redaction (kept in memory only, never stored), and their hash (`argsHash`).
   */
  toolCall?: ToolCallFacts;
  run: RunHints;
}

export interface ToolCallFacts {
  args: unknown;
  argsSha256: string;
}

/**
 * A step's rows in COPY text format (copy-rows.ts), rendered where it was normalized, less the columns
 * the writer settles under the run locks (its id, seq and governance violation); no trailing newline.
 */
export interface RenderedRows {
  step: Buffer;
  invocation: Buffer | null;
}

/** What the ingest writer reads of a step besides its rows: run identity, dedupe keys, run merge, governance. */
export type StepFacts = Pick<
  StepRecord,
  | 'tenantId'
  | 'projectId'
  | 'runId'
  | 'stepId'
  | 'traceId'
  | 'spanId'
  | 'ts'
  | 'endTs'
  | 'durationMs'
  | 'type'
  | 'name'
  | 'status'
  | 'toolName'
  | 'decisionTokenId'
  | 'toolCall'
  | 'run'
> & { invocation: Pick<InvocationRecord, 'kind'> | null };

/**
 * A step whose rows are rendered already (by a normalize worker): the writer copies its bytes and never
 * sees the payload, which is what makes it cheap to hand from thread to thread.
 */
export interface RenderedStep extends StepFacts {
  rows: RenderedRows;
}

/** The ingest writer's input: a record it renders itself, or one rendered already. */
export type WritableStep = StepRecord | RenderedStep;

/** What became of one StepRecord. */
export interface StepOutcome {
  stepId: string;
  /** The run the step is stored in: for a duplicate, the run of the first delivery. */
  runId: string;
  seq: number;
  duplicate: boolean;
  /** How a new tool step broke the governance binding (binding.ts), when it did. */
  governanceViolation?: GovernanceViolation;
}
