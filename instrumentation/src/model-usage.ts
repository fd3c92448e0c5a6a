import { z } from 'zod';

const Count = z.number().int().nonnegative();

/**
 * What a model call's result says about it, as an `extract` function of `traceModelCall` returns it.
 * Every field is optional.
 * @example const usage: ModelUsage = { inputTokens: 812, outputTokens: 64, responseModel: 'gpt-4o-2024-08-06' };
 */
export const ModelUsage = z.strictObject({
  inputTokens: Count.optional(),
  outputTokens: Count.optional(),
  cachedInputTokens: Count.optional(),
  cacheWriteTokens: Count.optional(),
  reasoningTokens: Count.optional(),
  /** The model that answered, when the provider names it (`gpt-4o-2024-08-06` for `gpt-4o`). */
  responseModel: z.string().min(1).optional(),
  responseId: z.string().min(1).optional(),
  finishReasons: z.array(z.string()).optional(),
  /** A cost the provider reported, which wins over the server's estimate. */
  costUsd: z.number().nonnegative().optional(),
});
export type ModelUsage = z.infer<typeof ModelUsage>;

const finishReasons = (reasons: (string | null | undefined)[]): string[] | undefined => {
  const defined = reasons.filter((r): r is string => typeof r === 'string');
  return defined.length > 0 ? defined : undefined;
};

// The result shapes of the common provider SDKs, read leniently (extra fields are fine), in this order.
const OpenAiChat = z
  .object({
    model: z.string().optional(),
    id: z.string().optional(),
    usage: z.object({
      prompt_tokens: Count,
      completion_tokens: Count,
      prompt_tokens_details: z.object({ cached_tokens: Count.optional() }).nullish(),
      completion_tokens_details: z.object({ reasoning_tokens: Count.optional() }).nullish(),
    }),
    choices: z.array(z.object({ finish_reason: z.string().nullish() })).optional(),
  })
  .transform(
    ({ model, id, usage, choices }): ModelUsage => ({
      inputTokens: usage.prompt_tokens,
      outputTokens: usage.completion_tokens,
      cachedInputTokens: usage.prompt_tokens_details?.cached_tokens,
      reasoningTokens: usage.completion_tokens_details?.reasoning_tokens,
      responseModel: model,
      responseId: id,
      finishReasons: finishReasons((choices ?? []).map((c) => c.finish_reason)),
    }),
  );

const OpenAiResponseOrAnthropic = z
  .object({
    model: z.string().optional(),
    id: z.string().optional(),
    usage: z.object({
      input_tokens: Count,
      output_tokens: Count,
      cache_read_input_tokens: Count.nullish(),
      cache_creation_input_tokens: Count.nullish(),
      input_tokens_details: z.object({ cached_tokens: Count.optional() }).nullish(),
      output_tokens_details: z.object({ reasoning_tokens: Count.optional() }).nullish(),
    }),
    stop_reason: z.string().nullish(),
  })
  .transform(
    ({ model, id, usage, stop_reason }): ModelUsage => ({
      inputTokens: usage.input_tokens,
      outputTokens: usage.output_tokens,
      cachedInputTokens:
        usage.cache_read_input_tokens ?? usage.input_tokens_details?.cached_tokens ?? undefined,
      cacheWriteTokens: usage.cache_creation_input_tokens ?? undefined,
      reasoningTokens: usage.output_tokens_details?.reasoning_tokens,
      responseModel: model,
      responseId: id,
      finishReasons: finishReasons([stop_reason]),
    }),
  );

const AiSdk = z
  .object({
    usage: z.object({
      inputTokens: Count,
      outputTokens: Count,
      cachedInputTokens: Count.optional(),
      reasoningTokens: Count.optional(),
    }),
    finishReason: z.string().optional(),
    response: z.object({ modelId: z.string().optional(), id: z.string().optional() }).optional(),
  })
  .transform(
    ({ usage, finishReason, response }): ModelUsage => ({
      ...usage,
      responseModel: response?.modelId,
      responseId: response?.id,
      finishReasons: finishReasons([finishReason]),
    }),
  );

const SHAPES = [OpenAiChat, OpenAiResponseOrAnthropic, AiSdk];

/**
 * The usage of a model call from its result, when the result has the shape of an OpenAI chat completion
 * (`usage.prompt_tokens`), an OpenAI response or Anthropic message (`usage.input_tokens`), or a Vercel AI
 * SDK result (`usage.inputTokens`); undefined for anything else (pass `extract` to `traceModelCall`).
 * @example readModelUsage({ model: 'gpt-4o-2024-08-06', usage: { prompt_tokens: 12, completion_tokens: 3 } })
 * // { inputTokens: 12, outputTokens: 3, responseModel: 'gpt-4o-2024-08-06', ... }
 */
export function readModelUsage(result: unknown): ModelUsage | undefined {
  for (const shape of SHAPES) {
    const parsed = shape.safeParse(result);
    if (parsed.success) return parsed.data;
  }
  return undefined;
}
