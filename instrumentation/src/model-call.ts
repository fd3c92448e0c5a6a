import { AGENTRACE, GEN_AI } from '@agentrace/schemas';
import { diag, type Span, SpanKind } from '@opentelemetry/api';
import { z } from 'zod';
import { currentScope, inheritedAttributes } from './agent-scope.ts';
import { describeIssues, parseArguments } from './call-site.ts';
import { definedAttributes } from './defined-attributes.ts';
import { ModelUsage, readModelUsage } from './model-usage.ts';
import { assertTaskType, type TaskType } from './task-types.ts';
import { traced } from './traced.ts';

const ModelCallSpec = z.strictObject({
  taskType: z.string(),
  /** The provider (`gen_ai.provider.name`): `openai`, `anthropic`, `gcp.gemini`, ... */
  provider: z.string().min(1),
  /** The model asked for (`gen_ai.request.model`). */
  model: z.string().min(1),
  /** The GenAI operation (`gen_ai.operation.name`), `chat` unless said. */
  operation: z.enum(['chat', 'text_completion', 'generate_content', 'embeddings']).default('chat'),
});
/**
 * What a model call is for and where it goes.
 * @example const spec: ModelCallSpec = { taskType: 'safety', provider: 'anthropic', model: 'claude-haiku-4-5' };
 */
export type ModelCallSpec = z.input<typeof ModelCallSpec> & { taskType: TaskType };

/**
 * Records one model call: a CLIENT span `chat <model>` with the GenAI attributes and the task type around
 * `fn`. Tokens, the response model and the finish reasons come from the result: `extract` when given, else
 * the result's own usage if it has an OpenAI, Anthropic or Vercel AI SDK shape. The span's duration is the
 * call's latency. A failure, even one before the provider answered anything, is recorded (exception,
 * status ERROR, `error.type`) and re-thrown. An unknown task type throws a TypeError here, before `fn` runs.
 * @example
 * const reply = await traceModelCall({ taskType: 'coach', provider: 'openai', model: 'gpt-4o' },
 *   () => openai.chat.completions.create({ model: 'gpt-4o', messages }));
 * // a result of another shape:
 * const text = await traceModelCall({ taskType: 'summarize', provider: 'acme', model: 'acme-1' },
 *   () => acme.complete(prompt),
 *   (r) => ({ inputTokens: r.tokensIn, outputTokens: r.tokensOut }));
 */
export function traceModelCall<T>(
  spec: ModelCallSpec,
  fn: (span: Span) => T,
  extract?: (result: Awaited<T>) => ModelUsage | undefined,
): T {
  const s = parseArguments('traceModelCall', ModelCallSpec, spec);
  const taskType = assertTaskType(s.taskType);
  const scope = currentScope();
  return traced(
    {
      name: `${s.operation} ${s.model}`,
      kind: SpanKind.CLIENT,
      attributes: {
        ...inheritedAttributes(scope),
        [GEN_AI.operationName]: s.operation,
        [GEN_AI.providerName]: s.provider,
        [GEN_AI.requestModel]: s.model,
        [AGENTRACE.taskType]: taskType,
      },
      scope,
      onResult: (result, span) => recordUsage(span, extract ? extract(result) : readModelUsage(result)),
    },
    fn,
  );
}

function recordUsage(span: Span, usage: ModelUsage | undefined): void {
  if (usage === undefined) return;
  const parsed = ModelUsage.safeParse(usage);
  if (!parsed.success) {
    diag.warn(
      `agentrace traceModelCall(): the extracted usage is invalid and was not recorded: ${describeIssues(parsed.error)}`,
    );
    return;
  }
  const u = parsed.data;
  span.setAttributes(
    definedAttributes({
      [GEN_AI.inputTokens]: u.inputTokens,
      [GEN_AI.outputTokens]: u.outputTokens,
      [GEN_AI.cacheReadTokens]: u.cachedInputTokens,
      [GEN_AI.cacheCreationTokens]: u.cacheWriteTokens,
      [GEN_AI.reasoningTokens]: u.reasoningTokens,
      [GEN_AI.responseModel]: u.responseModel,
      [GEN_AI.responseId]: u.responseId,
      [GEN_AI.responseFinishReasons]: u.finishReasons,
      [AGENTRACE.costUsd]: u.costUsd,
    }),
  );
}
