/**
 * A model gateway that serves `coach` and `safety` tasks, routing each task to a primary provider and
 * falling back to the next one when a call fails. The fake OpenAI is rate limited on some calls and the
 * fake Gemini drops one connection, so the traces show failed calls and their fallbacks, with tokens and
 * costs per provider and task.
 *
 * Run: AGENTRACE_API_KEY=<ingest key> npx tsx examples/model-gateway.ts
 */
import { startAgentrace } from '@agentrace/exporter';
import { logEvent, run, step, type TaskType, traceModelCall } from '@agentrace/instrumentation';
import { type ChatMessage, type FakeProvider, fakeProvider, ProviderError } from './lib/fake-provider.ts';

const providers: Record<string, FakeProvider> = {
  openai: fakeProvider('openai', {
    latencyMs: (r) => (r.model === 'gpt-4o' ? 180 : 60),
    reply: (r) =>
      r.model === 'gpt-4o-mini'
        ? '{"verdict":"allow","categories":[]}'
        : 'Break the goal into three small steps and start with the easiest one today.',
    failure: (call) =>
      call === 2 || call === 3
        ? new ProviderError('RateLimitError', 'Rate limit reached for gpt-4o', 429)
        : undefined,
  }),
  anthropic: fakeProvider('anthropic', {
    latencyMs: () => 140,
    reply: () =>
      'Let us look at what got in the way last week, then plan one thing you can do in ten minutes.',
  }),
  'gcp.gemini': fakeProvider('gcp.gemini', {
    latencyMs: () => 50,
    reply: () => '{"verdict":"allow","categories":[]}',
    failure: (call) =>
      call === 1 ? new ProviderError('APIConnectionError', 'connect ECONNRESET') : undefined,
  }),
};

type GatewayTask = Extract<TaskType, 'coach' | 'safety'>;

/** Each task's providers, in the order the gateway tries them. */
const ROUTES: Record<GatewayTask, { provider: string; model: string }[]> = {
  coach: [
    { provider: 'openai', model: 'gpt-4o' },
    { provider: 'anthropic', model: 'claude-sonnet-4-5' },
  ],
  safety: [
    { provider: 'gcp.gemini', model: 'gemini-2.5-flash' },
    { provider: 'openai', model: 'gpt-4o-mini' },
  ],
};

const SYSTEM_PROMPTS: Record<GatewayTask, string> = {
  coach: 'You are a supportive habit coach. '.repeat(40),
  safety: 'Classify the message against the safety policy and answer as JSON. '.repeat(30),
};

/** Serves one request: tries the task's route in order and returns the first answer. */
async function serve(task: GatewayTask, user: string, text: string): Promise<string> {
  return run(
    `gateway ${task}`,
    { agent: 'model-gateway', role: 'router', userId: user, sessionId: `chat-${user}`, tags: { task } },
    async () => {
      const messages: ChatMessage[] = [
        { role: 'system', content: SYSTEM_PROMPTS[task] },
        { role: 'user', content: text },
      ];
      const route = step('chain', 'route', () => ROUTES[task]);
      for (const [attempt, { provider, model }] of route.entries()) {
        try {
          const completion = await traceModelCall({ taskType: task, provider, model }, () =>
            providers[provider]!.chat({ model, messages }),
          );
          return completion.choices[0]!.message.content;
        } catch (error) {
          const next = route[attempt + 1];
          if (!next) throw error;
          logEvent({
            type: 'decision',
            choice: `fall back to ${next.provider}`,
            reason: (error as Error).message,
          });
        }
      }
      throw new Error(`no route for ${task}`);
    },
  );
}

const REQUESTS: [GatewayTask, string, string][] = [
  ['safety', 'u-101', 'I want to run a marathon next year.'],
  ['coach', 'u-101', 'I want to run a marathon next year, where do I start?'],
  ['coach', 'u-102', 'I keep skipping my morning workouts.'],
  ['safety', 'u-102', 'I keep skipping my morning workouts.'],
  ['coach', 'u-103', 'How do I stick to reading every evening?'],
  ['coach', 'u-101', 'I ran 5 km today!'],
];

const agentrace = startAgentrace({ serviceName: 'model-gateway' });
try {
  for (const [task, user, text] of REQUESTS) {
    const answer = await serve(task, user, text);
    process.stdout.write(`  ${task.padEnd(6)} ${user}: ${answer}\n`);
  }
} finally {
  await agentrace.shutdown();
}
