import type { RunStatus, StepType } from '@agentrace/schemas';
import type { Attributes, DecodedEvent } from '../otlp/decoded.ts';

/** What a mapper reads: one span with its resource and scope. */
export interface SpanView {
  name: string;
  kind: number;
  attributes: Attributes;
  resource: Attributes;
  scopeName: string;
  events: DecodedEvent[];
}

/**
 * The fields a convention can say about a span. Mappers run in priority order and the first one to
 * give a field wins it (semconv-mapping.md §7).
 */
export interface Mapped {
  type: StepType;
  runId: string;
  runName: string;
  runStatus: RunStatus;
  runTags: Record<string, string>;
  model: string;
  requestModel: string;
  provider: string;
  toolName: string;
  toolCallId: string;
  agentName: string;
  /** An agent name the span only inherits from its context (it does not make the span an agent). */
  contextAgentName: string;
  agentRole: string;
  taskType: string;
  artifactId: string;
  method: string;
  invoker: string;
  dataSourceId: string;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
  reportedCostUsd: number;
  sessionId: string;
  userId: string;
  errorType: string;
  /** A convention marks the span failed even though its OTel status does not (Langfuse level ERROR). */
  failed: boolean;
  /** An error message given by an attribute, used when neither the status nor an exception gives one. */
  errorMessage: string;
  decisionTokenId: string;
  input: unknown;
  output: unknown;
}

export type Mapper = (span: SpanView) => Partial<Mapped>;
