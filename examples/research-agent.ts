/**
 * A research agent that answers a question with tools: it plans (a model call), searches, fetches pages
 * (one is paywalled: a permission failure it works around), hands the pages to a summarizer sub-agent,
 * grades its own draft, writes a report file and attaches it to the run. Thoughts, decisions and the
 * final answer are recorded along the way.
 *
 * Run: AGENTRACE_API_KEY=<ingest key> npx tsx examples/research-agent.ts
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startAgentrace } from '@agentrace/exporter';
import {
  attachArtifact,
  InvocationError,
  logEvent,
  run,
  step,
  thought,
  traceModelCall,
  traceTool,
} from '@agentrace/instrumentation';
import { type ChatMessage, fakeProvider, sleep } from './lib/fake-provider.ts';

const QUESTION = 'How do teams keep LLM agent costs predictable in production?';

const PAGES: Record<string, string> = {
  'https://example.org/blog/token-budgets':
    'Per-task token budgets, enforced in the gateway, cap the worst case. '.repeat(12),
  'https://example.org/guide/model-routing':
    'Routing easy tasks to small models cuts cost by half or more. '.repeat(12),
  'https://paywalled.example.com/report': '',
};

const anthropic = fakeProvider('anthropic', {
  latencyMs: (r) => (r.model === 'claude-sonnet-4-5' ? 220 : 90),
  reply: (r) => {
    const prompt = r.messages.at(-1)!.content;
    if (prompt.startsWith('Plan'))
      return '1. search "llm agent cost control" 2. search "model routing cost" 3. read 3 sources';
    if (prompt.startsWith('Summarize')) return `Key point: ${prompt.slice(10, 80).trim()}…`;
    return 'Teams cap tokens per task, route easy tasks to small models, and watch cost per run on dashboards.';
  },
});
const openai = fakeProvider('openai', {
  latencyMs: () => 70,
  reply: () => '{"score":0.8,"missing":"numbers from a real deployment"}',
});

const ask = (system: string, user: string): ChatMessage[] => [
  { role: 'system', content: system },
  { role: 'user', content: user },
];

async function searchWeb(query: string): Promise<string[]> {
  await sleep(60);
  return query.includes('routing') ? Object.keys(PAGES).slice(1) : Object.keys(PAGES).slice(0, 2);
}

async function fetchPage(url: string): Promise<string> {
  await sleep(40);
  if (url.includes('paywalled'))
    throw new InvocationError('permission', `403 Forbidden: ${url} needs a subscription`);
  return PAGES[url]!;
}

/** The summarizer sub-agent: one cheap model call per page, then a merged summary. */
function summarize(pages: string[]): Promise<string> {
  return step('agent', 'summarizer', async () => {
    const notes: string[] = [];
    for (const page of pages) {
      const completion = await traceModelCall(
        { taskType: 'summarize', provider: 'anthropic', model: 'claude-haiku-4-5' },
        () =>
          anthropic.chat({
            model: 'claude-haiku-4-5',
            messages: ask('Summarize faithfully.', `Summarize ${page}`),
          }),
      );
      notes.push(completion.choices[0]!.message.content);
    }
    return notes.join('\n');
  });
}

async function research(question: string): Promise<string> {
  return run(
    'research question',
    {
      agent: 'researcher',
      role: 'analyst',
      sessionId: 'research-42',
      userId: 'u-7',
      tags: { topic: 'llm-costs' },
    },
    async () => {
      logEvent({ type: 'message', role: 'user', content: question });
      thought('Broad question: plan searches first, then read the best sources.');
      await traceModelCall({ taskType: 'plan', provider: 'anthropic', model: 'claude-sonnet-4-5' }, () =>
        anthropic.chat({
          model: 'claude-sonnet-4-5',
          messages: ask('You are a careful researcher. '.repeat(20), `Plan research for: ${question}`),
        }),
      );

      const urls = new Set<string>();
      for (const query of ['llm agent cost control', 'model routing cost']) {
        for (const url of await traceTool('search_web', () => searchWeb(query), { args: { query } }))
          urls.add(url);
      }
      logEvent({
        type: 'decision',
        choice: 'read all results',
        reason: `${urls.size} distinct sources`,
        alternatives: ['read the top one'],
      });

      const pages: string[] = [];
      for (const url of urls) {
        try {
          pages.push(await traceTool('fetch_page', () => fetchPage(url), { args: { url } }));
        } catch (error) {
          thought(`Skipping ${url}: ${(error as Error).message}.`);
        }
      }

      const notes = await summarize(pages);
      const draft = await traceModelCall(
        { taskType: 'chat', provider: 'anthropic', model: 'claude-sonnet-4-5' },
        () =>
          anthropic.chat({
            model: 'claude-sonnet-4-5',
            messages: ask('Answer from the notes only.', `${question}\n${notes}`),
          }),
      );
      const answer = draft.choices[0]!.message.content;

      const grade = await traceModelCall(
        { taskType: 'evaluate', provider: 'openai', model: 'gpt-4.1-mini' },
        () =>
          openai.chat({
            model: 'gpt-4.1-mini',
            messages: ask('Grade the answer from 0 to 1 as JSON.', answer),
          }),
      );
      const { score } = JSON.parse(grade.choices[0]!.message.content) as { score: number };
      logEvent({
        type: 'feedback',
        score,
        source: 'self-check',
        comment: 'missing numbers from a real deployment',
      });

      const report = `# ${question}\n\n${answer}\n\n## Notes\n\n${notes}\n`;
      const file = path.join(tmpdir(), 'agentrace-examples', 'llm-costs-report.md');
      await traceTool(
        'write_file',
        async () => {
          await mkdir(path.dirname(file), { recursive: true });
          await writeFile(file, report);
        },
        { args: { path: file } },
      );
      attachArtifact({
        uri: pathToFileURL(file).href,
        name: 'llm-costs-report.md',
        mediaType: 'text/markdown',
        size: Buffer.byteLength(report),
        sha256: createHash('sha256').update(report).digest('hex'),
      });
      logEvent({ type: 'message', role: 'assistant', content: answer });
      return answer;
    },
  );
}

const agentrace = startAgentrace({ serviceName: 'research-agent' });
try {
  process.stdout.write(`  ${await research(QUESTION)}\n`);
} finally {
  await agentrace.shutdown();
}
