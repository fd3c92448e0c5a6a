/**
 * A deterministic stand-in for an LLM provider's chat API, so the examples run without keys or network:
 * the same calls always give the same answers, token counts and failures. Results have the shape of an
 * OpenAI chat completion, which `traceModelCall` reads tokens from.
 */

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
}

export interface ChatCompletion {
  id: string;
  model: string;
  choices: { message: { role: 'assistant'; content: string }; finish_reason: 'stop' }[];
  usage: { prompt_tokens: number; completion_tokens: number };
}

/** A provider failure, named like the real SDKs' error classes (`RateLimitError`, `APIConnectionError`). */
export class ProviderError extends Error {
  constructor(
    override readonly name: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface FakeProviderBehaviour {
  /** How long a call takes, from its request. */
  latencyMs(request: ChatRequest, call: number): number;
  /** The answer to a request. */
  reply(request: ChatRequest): string;
  /** The failure of the `call`-th call (1-based), if it fails. */
  failure?(call: number, request: ChatRequest): ProviderError | undefined;
}

/** Roughly a token per four characters, like the usual English-text estimate. */
export const countTokens = (text: string) => Math.max(1, Math.ceil(text.length / 4));

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A fake provider named `name`; its calls are counted, so failures can be scripted by call number.
 * @example
 * const openai = fakeProvider('openai', { latencyMs: () => 40, reply: () => 'Hi!' });
 * const completion = await openai.chat({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello' }] });
 */
export function fakeProvider(name: string, behaviour: FakeProviderBehaviour) {
  let calls = 0;
  return {
    name,
    async chat(request: ChatRequest): Promise<ChatCompletion> {
      const call = ++calls;
      const failure = behaviour.failure?.(call, request);
      // A connection failure comes before any answer; the others after the provider thought about it.
      if (failure?.name === 'APIConnectionError') throw failure;
      await sleep(behaviour.latencyMs(request, call));
      if (failure) throw failure;
      const content = behaviour.reply(request);
      const prompt = request.messages.map((m) => m.content).join('\n');
      return {
        id: `${name}-${call}`,
        model: request.model,
        choices: [{ message: { role: 'assistant', content }, finish_reason: 'stop' }],
        usage: { prompt_tokens: countTokens(prompt), completion_tokens: countTokens(content) },
      };
    },
  };
}

export type FakeProvider = ReturnType<typeof fakeProvider>;
