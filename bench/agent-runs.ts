import { randomBytes, randomUUID } from 'node:crypto';
import type { StepRecord } from '@agentrace/store';
import { stepRecord } from '@agentrace/store/testing';

/** A deterministic generator (LCG), so that two runs of one seed share their structure. */
export function seeded(seed: number): () => number {
  let s = seed % 2 ** 31 || 1;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

const MODELS = [
  { model: 'gpt-4o-2024-08-06', provider: 'openai', input: 2.5, output: 10 },
  { model: 'gpt-4o-mini', provider: 'openai', input: 0.15, output: 0.6 },
  { model: 'claude-sonnet-4-5-20250929', provider: 'anthropic', input: 3, output: 15 },
];
const TOOLS = [
  'search',
  'fetch',
  'read_file',
  'write_file',
  'run_tests',
  'sql_query',
  'send_email',
  'calendar',
  'grep',
  'browse',
];
const ERRORS = ['timeout', 'rate_limited', 'http_500', 'invalid_arguments'];
const SUB_AGENTS = ['researcher', 'coder', 'reviewer'];

export interface AgentRunShape {
  tenantId: string;
  projectId: string;
  runId?: string;
  /** Steps to make (the root agent included); the last turn may overshoot by a few. */
  steps: number;
  startMs: number;
  /** Seeds the structure: two runs of one seed have the same steps... */
  seed: number;
  /** ...until a non-zero variant perturbs them: retried tools, other model answers, other latencies. */
  variant?: number;
  agent?: string;
  tags?: Record<string, string>;
}

/**
 * The step records of one realistic agent run, in the order an OTel exporter delivers them (a span when
 * it ends, so children before their parent): a root agent that loops model call → tool calls, now and
 * then handing a few turns to a sub-agent; model calls with messages, usage and cost; tool calls with
 * arguments and results, a few failing.
 */
export function agentRunRecords(shape: AgentRunShape): StepRecord[] {
  const structure = seeded(shape.seed);
  const perturb = seeded(shape.variant ?? 0);
  const varied = (shape.variant ?? 0) !== 0;
  const runId = shape.runId ?? randomUUID();
  const traceId = randomBytes(16);
  const agent = shape.agent ?? 'planner';
  const base = { tenantId: shape.tenantId, projectId: shape.projectId, runId, traceId };
  const records: StepRecord[] = [];
  // Steps of the structure; a variant's extra retries do not count, so both runs keep the same shape.
  let made = 0;
  let clock = shape.startMs;
  const iso = (ms: number) => `${new Date(Math.floor(ms)).toISOString().slice(0, 23)}000Z`;
  const payload = (input: unknown, output: unknown, attributes: Record<string, unknown>, at: number) =>
    JSON.stringify({
      input,
      output,
      attributes,
      events: [{ name: 'gen_ai.choice', ts: iso(at), attributes: {} }],
    });

  const llm = (parent: Buffer, agentName: string, turn: number) => {
    const m = MODELS[Math.floor(structure() * MODELS.length)]!;
    const inputTokens = 500 + Math.floor(structure() * 4000);
    const outputTokens = 50 + Math.floor(structure() * 600);
    const latency = 300 + structure() * 2000 + (varied ? perturb() * 400 : 0);
    const answer =
      varied && perturb() < 0.05 ? `revised answer ${turn}` : `answer ${turn}: call the next tool`;
    const start = clock;
    clock += latency;
    made++;
    const cost = (inputTokens * m.input + outputTokens * m.output) / 1e6;
    records.push(
      stepRecord({
        ...base,
        parentSpanId: parent,
        ts: iso(start),
        endTs: iso(clock),
        durationMs: latency,
        type: 'llm',
        name: `chat ${m.model}`,
        status: 'ok',
        model: m.model,
        requestModel: m.model,
        provider: m.provider,
        agentName,
        inputTokens,
        outputTokens,
        costUsd: cost,
        payloadJson: payload(
          {
            messages: [
              { role: 'user', content: `Turn ${turn}: what should ${agentName} do next about the ticket?` },
            ],
          },
          { text: answer, finish_reason: 'tool_calls' },
          {
            'gen_ai.operation.name': 'chat',
            'gen_ai.request.model': m.model,
            'gen_ai.response.id': randomUUID(),
            'gen_ai.usage.input_tokens': inputTokens,
            'gen_ai.usage.output_tokens': outputTokens,
          },
          clock,
        ),
        invocation: {
          kind: 'model',
          target: m.model,
          model: m.model,
          provider: m.provider,
          invoker: agentName,
          taskType: turn % 7 === 0 ? 'safety' : 'coach',
          latencyMs: latency,
          inputTokens,
          outputTokens,
          costUsd: cost,
          costSource: 'estimated',
        },
      }),
    );
  };

  const tool = (parent: Buffer, agentName: string, name: string, retry = false) => {
    const fails = retry ? perturb() < 0.5 : structure() < 0.04;
    const latency = 20 + (retry ? perturb() : structure()) * 800 + (varied ? perturb() * 100 : 0);
    const errorType = fails ? ERRORS[Math.floor((retry ? perturb() : structure()) * ERRORS.length)]! : null;
    if (!retry) made++;
    const start = clock;
    clock += latency;
    records.push(
      stepRecord({
        ...base,
        parentSpanId: parent,
        ts: iso(start),
        endTs: iso(clock),
        durationMs: latency,
        type: 'tool',
        name: `execute_tool ${name}`,
        status: fails ? 'error' : 'ok',
        errorType,
        errorMessage: fails ? `${name} failed: ${errorType}` : null,
        toolName: name,
        agentName,
        payloadJson: payload(
          { arguments: { query: `${name} for ${agentName}`, limit: 10 } },
          fails ? null : { result: `${name} returned 3 items`, items: [1, 2, 3] },
          {
            'gen_ai.operation.name': 'execute_tool',
            'gen_ai.tool.name': name,
            'gen_ai.tool.call.id': randomUUID(),
          },
          clock,
        ),
        invocation: {
          kind: 'tool',
          target: name,
          toolName: name,
          invoker: agentName,
          success: !fails,
          errorType,
          errorMessage: fails ? `${name} failed: ${errorType}` : null,
          latencyMs: latency,
        },
      }),
    );
  };

  const turns = (parent: Buffer, agentName: string, budget: number, nested: boolean) => {
    let turn = 0;
    while (made < budget) {
      llm(parent, agentName, turn++);
      const toolCalls = Math.floor(structure() * 4);
      for (let k = 0; k < toolCalls && made < budget; k++) {
        const name = TOOLS[Math.floor(structure() * TOOLS.length)]!;
        tool(parent, agentName, name);
        if (varied && perturb() < 0.02) tool(parent, agentName, name, true);
      }
      if (!nested && structure() < 0.1)
        subAgent(parent, Math.min(budget, made + 8 + Math.floor(structure() * 30)));
    }
  };

  const subAgent = (parent: Buffer, budget: number) => {
    const spanId = randomBytes(8);
    const name = SUB_AGENTS[Math.floor(structure() * SUB_AGENTS.length)]!;
    const start = clock;
    made++;
    turns(spanId, name, budget, true);
    records.push(
      stepRecord({
        ...base,
        spanId,
        parentSpanId: parent,
        ts: iso(start),
        endTs: iso(clock),
        durationMs: clock - start,
        type: 'agent',
        name: `invoke_agent ${name}`,
        status: 'ok',
        agentName: name,
        payloadJson: payload({ task: `help ${agent}` }, { done: true }, { 'gen_ai.agent.name': name }, clock),
        invocation: { kind: 'agent', target: name, invoker: agent, latencyMs: clock - start },
      }),
    );
  };

  const rootSpan = randomBytes(8);
  turns(rootSpan, agent, shape.steps - 1, false);
  const failed = records.some((r) => r.status === 'error') && structure() < 0.3;
  records.push(
    stepRecord({
      ...base,
      spanId: rootSpan,
      ts: iso(shape.startMs),
      endTs: iso(clock),
      durationMs: clock - shape.startMs,
      type: 'agent',
      name: `invoke_agent ${agent}`,
      status: failed ? 'error' : 'ok',
      errorType: failed ? 'task_failed' : null,
      agentName: agent,
      payloadJson: payload(
        { task: 'resolve the ticket' },
        { done: !failed },
        { 'gen_ai.agent.name': agent },
        clock,
      ),
      run: { isRoot: true, agentName: agent, tags: shape.tags ?? {}, name: `${agent} run` },
    }),
  );
  return records;
}
