import {
  OpenInferenceSpanKind,
  SemanticConventions as OI,
} from '@arizeai/openinference-semantic-conventions';
import { Invocation, listOf, Run, Step } from '@agentrace/schemas';
import type { Span } from '@opentelemetry/api';
import {
  ATTR_GEN_AI_AGENT_NAME,
  ATTR_GEN_AI_COMPLETION,
  ATTR_GEN_AI_INPUT_MESSAGES,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROMPT,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_SYSTEM,
  ATTR_GEN_AI_USAGE_COMPLETION_TOKENS,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_GEN_AI_USAGE_PROMPT_TOKENS,
} from '@opentelemetry/semantic-conventions/incubating';
import {
  LLMRequestTypeValues,
  SpanAttributes as TL,
  TraceloopSpanKindValues,
} from '@traceloop/ai-semantic-conventions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AiSdkFormat,
  EMBEDDING_TOKENS,
  MOCK_MODEL_ID,
  MOCK_USAGE,
  runAiSdkAgent,
  runAiSdkEmbed,
} from './testing/ai-sdk-agent.ts';
import { exportSpans, otlpExporter, recordingTracer } from './testing/otel-client.ts';
import { startTestServer, type TestServer } from './testing/test-server.ts';

const RunList = listOf(Run);
const StepList = listOf(Step);
const InvocationList = listOf(Invocation);

// USD per token of the shipped price table.
const GPT_4O = { input: 2.5 / 1e6, output: 10 / 1e6 };
const GPT_4O_MINI = { input: 0.15 / 1e6, output: 0.6 / 1e6 };

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s?.close();
});

async function runOfTrace(traceId: string): Promise<Run> {
  const page = RunList.parse((await s.api(`/v1/runs?trace_id=${traceId}`)).body);
  expect(page.data).toHaveLength(1);
  return page.data[0]!;
}
const stepsOf = async (run: Run) => StepList.parse((await s.api(`/v1/runs/${run.run_id}/steps`)).body).data;
const invocationsOf = async (run: Run) =>
  InvocationList.parse((await s.api(`/v1/invocations?run_id=${run.run_id}`)).body).data;
const sorted = (values: (string | null)[]) => [...values].sort();

/** Per telemetry format: the steps one agent run makes (root first) and the run's name. */
const AI_SDK_FORMATS: Record<
  AiSdkFormat,
  { rootType: string; stepTypes: string[]; invocationKinds: string[]; embedStepTypes: string[] }
> = {
  // ai.generateText → 2 × ai.generateText.doGenerate, the first call's span holds the ai.toolCall;
  // ai.embed → ai.embed.doEmbed.
  legacy: {
    rootType: 'chain',
    stepTypes: ['chain', 'llm', 'llm', 'tool'],
    invocationKinds: ['model', 'model', 'tool'],
    embedStepTypes: ['chain', 'embedding'],
  },
  // invoke_agent → step 1 (chat, execute_tool), step 2 (chat); embeddings → embeddings.
  genai: {
    rootType: 'agent',
    stepTypes: ['agent', 'chain', 'chain', 'llm', 'llm', 'tool'],
    invocationKinds: ['agent', 'model', 'model', 'tool'],
    embedStepTypes: ['embedding', 'embedding'],
  },
};

describe.each(['legacy', 'genai'] as const)(
  'the Vercel AI SDK (real `ai` package), %s telemetry',
  (format) => {
    const expected = AI_SDK_FORMATS[format];

    describe.each(['generateText', 'streamText'] as const)('%s with a tool', (call) => {
      // The streamed run's tool throws: the SDK hands the error to the model and the run still succeeds.
      const toolFails = call === 'streamText';
      let run: Run;
      let steps: Step[];

      beforeAll(async () => {
        const result = await runAiSdkAgent(call, format, otlpExporter('proto', s.otlpUrl, s.ingestKey), {
          toolFails,
        });
        expect(result.text).toBe('Sunny.');
        run = await runOfTrace(result.traceId);
        steps = await stepsOf(run);
      });

      it('counts the usage of each model call once, though the root repeats it', () => {
        expect(run).toMatchObject({
          status: 'succeeded',
          input_tokens: 2 * MOCK_USAGE.inputTokens,
          output_tokens: 2 * MOCK_USAGE.outputTokens,
          model_names: [MOCK_MODEL_ID],
          step_count: expected.stepTypes.length,
          tool_count: 1,
          error_count: toolFails ? 1 : 0,
        });
        const perCall =
          MOCK_USAGE.inputTokens * GPT_4O_MINI.input + MOCK_USAGE.outputTokens * GPT_4O_MINI.output;
        expect(run.cost_usd).toBeCloseTo(2 * perCall, 12);
        const root = steps.find((step) => step.parent_step_id === null)!;
        expect(root).toMatchObject({
          type: expected.rootType,
          input_tokens: 2 * MOCK_USAGE.inputTokens,
          output_tokens: 2 * MOCK_USAGE.outputTokens,
        });
      });

      it('takes session, user and agent from the telemetry settings', () => {
        expect(run).toMatchObject({ session_id: 's-1', user_id: 'u-1', agent_name: 'research' });
      });

      it('types the steps: the operation, its model calls and the tool call', async () => {
        expect(sorted(steps.map((step) => step.type))).toEqual(expected.stepTypes);
        for (const llm of steps.filter((step) => step.type === 'llm')) {
          expect(llm).toMatchObject({
            provider: 'openai',
            model: MOCK_MODEL_ID,
            request_model: MOCK_MODEL_ID,
            input_tokens: MOCK_USAGE.inputTokens,
            output_tokens: MOCK_USAGE.outputTokens,
          });
        }
        const toolStep = steps.find((step) => step.type === 'tool')!;
        expect(toolStep).toMatchObject({
          tool_name: 'weather',
          status: toolFails ? 'error' : expect.any(String),
        });
        if (toolFails) expect(toolStep.error?.message).toBe('no weather for Paris');
        else expect(toolStep.error).toBeNull();
        const kinds = (await invocationsOf(run)).map((invocation) => invocation.kind);
        expect(sorted(kinds)).toEqual(expected.invocationKinds);
      });

      it('keeps the messages as structured input and output', () => {
        const calls = steps.filter((step) => step.type === 'llm');
        const inputs = calls.map((step) => step.payload.input as { messages: unknown[] });
        for (const input of inputs) expect(Array.isArray(input.messages)).toBe(true);
        // The second call sees the question, the tool call and its result.
        expect(inputs.map((input) => input.messages.length).sort()).toEqual([1, 3]);
        const toolStep = steps.find((step) => step.type === 'tool')!;
        expect(toolStep.payload.input).toEqual({ arguments: { city: 'Paris' } });
      });
    });

    it('counts an embedding once: the operation repeats its call usage', async () => {
      const result = await runAiSdkEmbed(format, otlpExporter('proto', s.otlpUrl, s.ingestKey));
      const run = await runOfTrace(result.traceId);
      expect(run).toMatchObject({
        status: 'succeeded',
        input_tokens: EMBEDDING_TOKENS,
        model_names: ['text-embedding-3-small'],
      });
      expect(sorted((await stepsOf(run)).map((step) => step.type))).toEqual(expected.embedStepTypes);
    });
  },
);

/** Ends `span` as failed by `error`, the way instrumentations record it. */
function fail(span: Span, error: Error): void {
  span.recordException(error);
  span.setStatus({ code: 2, message: error.message });
  span.end();
}

describe('OpenInference spans built from its semantic-conventions package', () => {
  const USAGE = { prompt: 100, completion: 20 };
  const LLM_COST = 0.0003;
  const EMBEDDING_COST = 0.00001;
  let run: Run;
  let steps: Step[];

  beforeAll(async () => {
    const t = recordingTracer('oi-agent');
    const root = t.start('research-agent', {
      [OI.OPENINFERENCE_SPAN_KIND]: OpenInferenceSpanKind.AGENT,
      [OI.AGENT_NAME]: 'researcher',
      [OI.SESSION_ID]: 'oi-session',
      [OI.USER_ID]: 'oi-user',
      [OI.INPUT_VALUE]: '{"question":"weather in Paris?"}',
      [OI.INPUT_MIME_TYPE]: 'application/json',
    });
    t.start('retrieve', { [OI.OPENINFERENCE_SPAN_KIND]: OpenInferenceSpanKind.RETRIEVER }, root).end();
    t.start(
      'embed',
      {
        [OI.OPENINFERENCE_SPAN_KIND]: OpenInferenceSpanKind.EMBEDDING,
        [OI.EMBEDDING_MODEL_NAME]: 'text-embedding-3-small',
        [OI.LLM_TOKEN_COUNT_PROMPT]: 8,
        [OI.LLM_TOKEN_COUNT_TOTAL]: 8,
        [OI.LLM_COST_TOTAL]: EMBEDDING_COST,
      },
      root,
    ).end();
    const llm = (name: string, parent: Span) =>
      t.start(
        name,
        {
          [OI.OPENINFERENCE_SPAN_KIND]: OpenInferenceSpanKind.LLM,
          [OI.LLM_MODEL_NAME]: 'gpt-4o-mini',
          [OI.LLM_SYSTEM]: 'openai',
          [OI.LLM_PROVIDER]: 'openai',
          [OI.LLM_TOKEN_COUNT_PROMPT]: USAGE.prompt,
          [OI.LLM_TOKEN_COUNT_COMPLETION]: USAGE.completion,
          [OI.LLM_TOKEN_COUNT_TOTAL]: USAGE.prompt + USAGE.completion,
          [OI.LLM_COST_TOTAL]: LLM_COST,
          [`${OI.LLM_INPUT_MESSAGES}.0.${OI.MESSAGE_ROLE}`]: 'user',
          [`${OI.LLM_INPUT_MESSAGES}.0.${OI.MESSAGE_CONTENT}`]: 'weather in Paris?',
          [`${OI.LLM_OUTPUT_MESSAGES}.0.${OI.MESSAGE_ROLE}`]: 'assistant',
          [`${OI.LLM_OUTPUT_MESSAGES}.0.${OI.MESSAGE_TOOL_CALLS}.0.${OI.TOOL_CALL_FUNCTION_NAME}`]:
            'get_weather',
        },
        parent,
      );
    // One model call instrumented twice: a framework LLM span (LangChain) around the client's (OpenAI).
    const framework = llm('ChatOpenAI', root);
    llm('ChatCompletion', framework).end();
    framework.end();
    fail(
      t.start(
        'get_weather',
        { [OI.OPENINFERENCE_SPAN_KIND]: OpenInferenceSpanKind.TOOL, [OI.TOOL_NAME]: 'get_weather' },
        root,
      ),
      new TypeError('weather service unreachable'),
    );
    root.end();
    const spans = t.memory.getFinishedSpans();
    expect(await exportSpans(otlpExporter('proto', s.otlpUrl, s.ingestKey), spans)).toBe(0);
    run = await runOfTrace(root.spanContext().traceId);
    steps = await stepsOf(run);
  });

  it('counts the doubly instrumented call once, in tokens and reported cost', () => {
    expect(run).toMatchObject({
      input_tokens: USAGE.prompt + 8,
      output_tokens: USAGE.completion,
      model_names: ['gpt-4o-mini', 'text-embedding-3-small'],
    });
    expect(run.cost_usd).toBeCloseTo(LLM_COST + EMBEDDING_COST, 12);
    // Each span still shows what it reported.
    for (const step of steps.filter((x) => x.type === 'llm')) {
      expect(step).toMatchObject({
        input_tokens: USAGE.prompt,
        output_tokens: USAGE.completion,
        provider: 'openai',
      });
      expect(step.cost_usd).toBeCloseTo(LLM_COST, 12);
    }
  });

  it('types every span kind and names the run, agent, session and user', () => {
    expect(sorted(steps.map((x) => x.type))).toEqual([
      'agent',
      'embedding',
      'llm',
      'llm',
      'retrieval',
      'tool',
    ]);
    expect(run).toMatchObject({
      name: 'research-agent',
      status: 'succeeded',
      agent_name: 'researcher',
      session_id: 'oi-session',
      user_id: 'oi-user',
      step_count: 6,
      tool_count: 1,
      error_count: 1,
    });
  });

  it('records the failed tool call with the exception', async () => {
    const tool = steps.find((x) => x.type === 'tool')!;
    expect(tool).toMatchObject({
      tool_name: 'get_weather',
      status: 'error',
      error: { type: 'TypeError', message: 'weather service unreachable' },
    });
    const failed = (await invocationsOf(run)).filter((invocation) => !invocation.success);
    expect(failed).toEqual([
      expect.objectContaining({ kind: 'tool', target: 'get_weather', error_type: 'TypeError' }),
    ]);
  });

  it('rebuilds the flattened messages and parses the JSON input value', () => {
    const call = steps.find((x) => x.name === 'ChatCompletion')!;
    expect(call.payload.input).toEqual({ messages: [{ role: 'user', content: 'weather in Paris?' }] });
    expect(call.payload.output).toEqual({
      messages: [{ role: 'assistant', tool_calls: [{ function: { name: 'get_weather' } }] }],
    });
    const root = steps.find((x) => x.type === 'agent')!;
    expect(root.payload.input).toEqual({ value: { question: 'weather in Paris?' } });
  });
});

describe('OpenLLMetry spans built from its semantic-conventions package', () => {
  const OLD_CALL = { prompt: 50, completion: 12 };
  const NEW_CALL = { input: 30, output: 6 };
  let run: Run;
  let steps: Step[];

  beforeAll(async () => {
    const t = recordingTracer('tl-agent');
    // Traceloop copies these onto every descendant of the workflow.
    const context = {
      [TL.TRACELOOP_WORKFLOW_NAME]: 'trip_planner',
      [`${TL.TRACELOOP_ASSOCIATION_PROPERTIES}.session_id`]: 'tl-session',
      [`${TL.TRACELOOP_ASSOCIATION_PROPERTIES}.user_id`]: 'tl-user',
    };
    const inAgent = { ...context, [ATTR_GEN_AI_AGENT_NAME]: 'planner' };
    const root = t.start('trip_planner.workflow', {
      ...context,
      [TL.TRACELOOP_SPAN_KIND]: TraceloopSpanKindValues.WORKFLOW,
      [TL.TRACELOOP_ENTITY_NAME]: 'trip_planner',
    });
    const agent = t.start(
      'planner.agent',
      {
        ...inAgent,
        [TL.TRACELOOP_SPAN_KIND]: TraceloopSpanKindValues.AGENT,
        [TL.TRACELOOP_ENTITY_NAME]: 'planner',
      },
      root,
    );
    const task = t.start(
      'search.task',
      {
        ...inAgent,
        [TL.TRACELOOP_SPAN_KIND]: TraceloopSpanKindValues.TASK,
        [TL.TRACELOOP_ENTITY_NAME]: 'search',
      },
      agent,
    );
    // Before v0.55: llm.request.type, gen_ai.system, indexed messages, prompt/completion token names.
    t.start(
      'openai.chat',
      {
        ...inAgent,
        [TL.LLM_REQUEST_TYPE]: LLMRequestTypeValues.CHAT,
        [ATTR_GEN_AI_SYSTEM]: 'openai',
        [ATTR_GEN_AI_REQUEST_MODEL]: 'gpt-4o',
        [ATTR_GEN_AI_RESPONSE_MODEL]: 'gpt-4o-2024-08-06',
        [ATTR_GEN_AI_USAGE_PROMPT_TOKENS]: OLD_CALL.prompt,
        [ATTR_GEN_AI_USAGE_COMPLETION_TOKENS]: OLD_CALL.completion,
        [TL.LLM_USAGE_TOTAL_TOKENS]: OLD_CALL.prompt + OLD_CALL.completion,
        [`${ATTR_GEN_AI_PROMPT}.0.role`]: 'user',
        [`${ATTR_GEN_AI_PROMPT}.0.content`]: 'flights to Lisbon?',
        [`${ATTR_GEN_AI_COMPLETION}.0.role`]: 'assistant',
        [`${ATTR_GEN_AI_COMPLETION}.0.content`]: 'Three flights.',
      },
      task,
    ).end();
    task.end();
    fail(
      t.start(
        'lookup.tool',
        {
          ...inAgent,
          [TL.TRACELOOP_SPAN_KIND]: TraceloopSpanKindValues.TOOL,
          [TL.TRACELOOP_ENTITY_NAME]: 'lookup',
        },
        agent,
      ),
      new Error('lookup timed out'),
    );
    // v0.55+: the GenAI conventions, messages as a JSON string.
    t.start(
      'chat gpt-4o-mini',
      {
        ...inAgent,
        [ATTR_GEN_AI_OPERATION_NAME]: 'chat',
        [ATTR_GEN_AI_PROVIDER_NAME]: 'openai',
        [ATTR_GEN_AI_REQUEST_MODEL]: 'gpt-4o-mini',
        [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: NEW_CALL.input,
        [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: NEW_CALL.output,
        [TL.GEN_AI_USAGE_TOTAL_TOKENS]: NEW_CALL.input + NEW_CALL.output,
        [ATTR_GEN_AI_INPUT_MESSAGES]: JSON.stringify([
          { role: 'user', parts: [{ type: 'text', content: 'book it' }] },
        ]),
      },
      agent,
    ).end();
    agent.end();
    root.end();
    expect(
      await exportSpans(otlpExporter('proto', s.otlpUrl, s.ingestKey), t.memory.getFinishedSpans()),
    ).toBe(0);
    run = await runOfTrace(root.spanContext().traceId);
    steps = await stepsOf(run);
  });

  it('sums both generations of LLM spans once each, priced from the table', () => {
    expect(run).toMatchObject({
      input_tokens: OLD_CALL.prompt + NEW_CALL.input,
      output_tokens: OLD_CALL.completion + NEW_CALL.output,
      model_names: ['gpt-4o-2024-08-06', 'gpt-4o-mini'],
    });
    const cost =
      OLD_CALL.prompt * GPT_4O.input +
      OLD_CALL.completion * GPT_4O.output +
      NEW_CALL.input * GPT_4O_MINI.input +
      NEW_CALL.output * GPT_4O_MINI.output;
    expect(run.cost_usd).toBeCloseTo(cost, 12);
  });

  it('names the run after the workflow, with the session and user of the association properties', () => {
    expect(run).toMatchObject({
      name: 'trip_planner',
      status: 'succeeded',
      session_id: 'tl-session',
      user_id: 'tl-user',
      agent_name: 'planner',
      step_count: 6,
      tool_count: 1,
      error_count: 1,
    });
  });

  it('makes only the agent span an agent, though its name is on every descendant', async () => {
    const byName = Object.fromEntries(steps.map((x) => [x.name, x]));
    expect(byName['trip_planner.workflow']).toMatchObject({ type: 'chain' });
    expect(byName['planner.agent']).toMatchObject({ type: 'agent', agent_name: 'planner' });
    expect(byName['search.task']).toMatchObject({ type: 'chain', agent_name: 'planner' });
    expect(byName['openai.chat']).toMatchObject({ type: 'llm', provider: 'openai', request_model: 'gpt-4o' });
    expect(byName['lookup.tool']).toMatchObject({ type: 'tool', tool_name: 'lookup', status: 'error' });
    expect(byName['lookup.tool']!.error?.message).toBe('lookup timed out');
    const invocations = await invocationsOf(run);
    expect(invocations.filter((i) => i.kind === 'agent').map((i) => [i.target, i.invoker])).toEqual([
      ['planner', null],
    ]);
    // The calls made inside the agent are invoked by it.
    const inner = invocations.filter((i) => i.kind !== 'agent');
    expect(sorted(inner.map((i) => i.kind))).toEqual(['model', 'model', 'tool']);
    for (const invocation of inner) expect(invocation.invoker).toBe('planner');
  });

  it('rebuilds the indexed prompt and completion, and parses the JSON messages', () => {
    const byName = Object.fromEntries(steps.map((x) => [x.name, x]));
    expect(byName['openai.chat']!.payload).toMatchObject({
      input: { messages: [{ role: 'user', content: 'flights to Lisbon?' }] },
      output: { messages: [{ role: 'assistant', content: 'Three flights.' }] },
    });
    expect(byName['chat gpt-4o-mini']!.payload.input).toEqual({
      messages: [{ role: 'user', parts: [{ type: 'text', content: 'book it' }] }],
    });
  });
});
