/**
 * Span attribute keys of our own conventions (`agentrace.*`, API.md "Our span attributes"),
 * and the OTel GenAI keys we read and emit. One place, so producers and the receiver agree.
 */
export const AGENTRACE = {
  runId: 'agentrace.run.id',
  runName: 'agentrace.run.name',
  runTagPrefix: 'agentrace.run.tags.',
  runStatus: 'agentrace.run.status',
  stepType: 'agentrace.step.type',
  agentRole: 'agentrace.agent.role',
  taskType: 'agentrace.task.type',
  artifactId: 'agentrace.artifact.id',
  invocationMethod: 'agentrace.invocation.method',
  invokerId: 'agentrace.invoker.id',
  tick: 'agentrace.tick',
  decisionTokenId: 'agentrace.decision.token_id',
  /** How a gated tool call was allowed (`guardTool()`): `policy`, `approval` or `break_glass`. */
  decisionSource: 'agentrace.decision.source',
  /** The approval that allowed a gated tool call, when one did. */
  decisionApprovalId: 'agentrace.decision.approval_id',
  costUsd: 'agentrace.cost.usd',
  /** The text of a `thought` step (an agent's reasoning, recorded by `thought()`). */
  thoughtText: 'agentrace.thought.text',
  /**
   * A file attached to a step (an `artifact` step, recorded by `attachArtifact()`). Not an invoked artifact:
   * those are named by `agentrace.artifact.id`.
   */
  artifactUri: 'agentrace.artifact.uri',
  artifactName: 'agentrace.artifact.name',
  artifactMediaType: 'agentrace.artifact.media_type',
  artifactSize: 'agentrace.artifact.size',
  artifactSha256: 'agentrace.artifact.sha256',
  /** Span events logged by `logEvent()` are named `agentrace.event.<type>`, their fields `agentrace.event.<field>`. */
  eventPrefix: 'agentrace.event.',
} as const;

export const GEN_AI = {
  operationName: 'gen_ai.operation.name',
  providerName: 'gen_ai.provider.name',
  system: 'gen_ai.system',
  requestModel: 'gen_ai.request.model',
  responseModel: 'gen_ai.response.model',
  responseId: 'gen_ai.response.id',
  responseFinishReasons: 'gen_ai.response.finish_reasons',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  promptTokens: 'gen_ai.usage.prompt_tokens',
  completionTokens: 'gen_ai.usage.completion_tokens',
  cacheReadTokens: 'gen_ai.usage.cache_read.input_tokens',
  cacheReadTokensLegacy: 'gen_ai.usage.cache_read_input_tokens',
  cacheCreationTokens: 'gen_ai.usage.cache_creation.input_tokens',
  cacheCreationTokensLegacy: 'gen_ai.usage.cache_creation_input_tokens',
  reasoningTokens: 'gen_ai.usage.reasoning.output_tokens',
  agentName: 'gen_ai.agent.name',
  agentId: 'gen_ai.agent.id',
  conversationId: 'gen_ai.conversation.id',
  workflowName: 'gen_ai.workflow.name',
  dataSourceId: 'gen_ai.data_source.id',
  toolName: 'gen_ai.tool.name',
  toolCallId: 'gen_ai.tool.call.id',
  toolCallArguments: 'gen_ai.tool.call.arguments',
  toolCallResult: 'gen_ai.tool.call.result',
  systemInstructions: 'gen_ai.system_instructions',
  inputMessages: 'gen_ai.input.messages',
  outputMessages: 'gen_ai.output.messages',
  prompt: 'gen_ai.prompt',
  completion: 'gen_ai.completion',
} as const;

/** Generic OTel keys we read. */
export const OTEL = {
  errorType: 'error.type',
  exceptionType: 'exception.type',
  exceptionMessage: 'exception.message',
  exceptionStacktrace: 'exception.stacktrace',
  sessionId: 'session.id',
  userId: 'user.id',
  enduserId: 'enduser.id',
  serviceName: 'service.name',
} as const;
