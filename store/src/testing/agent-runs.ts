import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { StepRecord } from '../ingest-types.ts';
import { writeSteps } from '../ingest-writer.ts';
import { stepRecord } from './step-records.ts';

const WORDS = (
  'the agent plans a trip to lisbon and checks the weather forecast before booking a hotel near the river ' +
  'user asked for a summary of the quarterly report with revenue margins costs and risks highlighted ' +
  'search results include three articles about pricing models retrieval augmented generation and latency ' +
  'tool call failed with timeout retrying with a smaller page size then the answer was validated by review'
).split(' ');
const TOOLS = ['search_web', 'get_weather', 'book_hotel', 'read_file', 'run_sql'];

/** Deterministic-looking prose of `n` words, different at each call. */
function prose(n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(WORDS[randomBytes(1)[0]! % WORDS.length]!);
  return out.join(' ');
}

/**
 * Writes `runs` runs of `stepsPerRun` steps each, shaped like real agent traffic (a chat model call and a
 * tool call in turn, with messages, arguments and results in the payload), through the ingest writer.
 * @example await writeAgentRuns(pool, tenant, { runs: 20, stepsPerRun: 10 });
 */
export async function writeAgentRuns(
  pool: Pool,
  tenant: { tenantId: string; projectId: string },
  options: { runs: number; stepsPerRun: number },
): Promise<string[]> {
  const runIds: string[] = [];
  for (let r = 0; r < options.runs; r++) {
    const runId = randomUUID();
    runIds.push(runId);
    const traceId = randomBytes(16);
    const start = Date.UTC(2026, 5, 1, 9, 0, 0) + r * 60_000;
    const records: StepRecord[] = [];
    for (let s = 0; s < options.stepsPerRun; s++) {
      const ts = new Date(start + s * 1000).toISOString().replace('Z', '000Z');
      const endTs = new Date(start + s * 1000 + 800).toISOString().replace('Z', '000Z');
      const llm = s % 2 === 0;
      const tool = TOOLS[s % TOOLS.length]!;
      const payload = llm
        ? {
            input: {
              messages: [
                { role: 'system', content: prose(30) },
                { role: 'user', content: prose(60) },
              ],
            },
            output: { messages: [{ role: 'assistant', content: prose(120) }], finish_reason: 'stop' },
            attributes: {
              'gen_ai.operation.name': 'chat',
              'gen_ai.request.model': 'gpt-4o',
              'gen_ai.usage.input_tokens': 900,
            },
            events: [],
          }
        : {
            input: { arguments: { query: prose(8), limit: 10 } },
            output: { result: prose(80) },
            attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': tool },
            events: [],
          };
      const payloadJson = JSON.stringify(payload);
      records.push(
        stepRecord({
          ...tenant,
          runId,
          traceId,
          ts,
          endTs,
          durationMs: 800,
          type: llm ? 'llm' : 'tool',
          name: llm ? 'chat gpt-4o' : `execute_tool ${tool}`,
          status: s === 3 ? 'error' : 'ok',
          errorType: s === 3 ? 'timeout' : null,
          errorMessage: s === 3 ? 'the tool did not answer within 30 s' : null,
          model: llm ? 'gpt-4o-2024-08-06' : null,
          requestModel: llm ? 'gpt-4o' : null,
          provider: llm ? 'openai' : null,
          toolName: llm ? null : tool,
          agentName: 'planner',
          inputTokens: llm ? 900 : null,
          outputTokens: llm ? 150 : null,
          costUsd: llm ? 0.00375 : null,
          payloadJson,
          payloadHash: `sha256:${createHash('sha256').update(payloadJson).digest('hex')}`,
          run: {
            isRoot: false,
            name: `trip ${r}`,
            agentName: 'planner',
            sessionId: `s-${r % 5}`,
            tags: { env: 'prod' },
          },
          invocation: llm
            ? {
                kind: 'model',
                target: 'gpt-4o',
                model: 'gpt-4o',
                provider: 'openai',
                invoker: 'planner',
                latencyMs: 800,
                inputTokens: 900,
                outputTokens: 150,
                costUsd: 0.00375,
                costSource: 'estimated',
              }
            : {
                kind: 'tool',
                target: tool,
                toolName: tool,
                invoker: 'planner',
                latencyMs: 800,
                success: s !== 3,
                errorType: s === 3 ? 'timeout' : null,
              },
        }),
      );
    }
    await writeSteps(pool, records);
  }
  return runIds;
}
