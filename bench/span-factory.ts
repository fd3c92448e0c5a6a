import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { ExportTraceServiceRequestType } from '@agentrace/receiver';

/**
 * Realistic agent traffic for the ingest benchmark: OTLP `ExportTraceServiceRequest`s made of whole agent
 * runs (an `invoke_agent` root, chat model calls with GenAI usage and messages, tool calls with JSON
 * arguments and results, the odd failing tool), as the OTel SDK's batch exporter would send them
 * (children end, and are exported, before their root). Every trace and span id is fresh.
 */

type AnyValue =
  | { stringValue: string }
  | { intValue: number }
  | { doubleValue: number }
  | { boolValue: boolean }
  | { arrayValue: { values: AnyValue[] } };
interface KeyValue {
  key: string;
  value: AnyValue;
}
interface OtlpEvent {
  timeUnixNano: string;
  name: string;
  attributes: KeyValue[];
}
interface OtlpSpan {
  traceId: Buffer;
  spanId: Buffer;
  parentSpanId?: Buffer;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: KeyValue[];
  events: OtlpEvent[];
  status: { code: number; message?: string };
}
export interface OtlpRequest {
  resourceSpans: {
    resource: { attributes: KeyValue[] };
    scopeSpans: { scope: { name: string; version: string }; spans: OtlpSpan[] }[];
  }[];
}

const SPAN_KIND_INTERNAL = 1;
const SPAN_KIND_CLIENT = 3;
const STATUS_OK = 1;
const STATUS_ERROR = 2;

// Models as providers report them: request names and the dated response names of the shipped price table.
const MODELS = [
  {
    provider: 'openai',
    request: 'gpt-4o',
    response: 'gpt-4o-2024-08-06',
    server: 'api.openai.com',
    weight: 4,
  },
  {
    provider: 'openai',
    request: 'gpt-4o-mini',
    response: 'gpt-4o-mini-2024-07-18',
    server: 'api.openai.com',
    weight: 3,
  },
  {
    provider: 'openai',
    request: 'gpt-4.1',
    response: 'gpt-4.1-2025-04-14',
    server: 'api.openai.com',
    weight: 2,
  },
  {
    provider: 'anthropic',
    request: 'claude-sonnet-4-5',
    response: 'claude-sonnet-4-5-20250929',
    server: 'api.anthropic.com',
    weight: 3,
  },
  {
    provider: 'anthropic',
    request: 'claude-3-5-haiku',
    response: 'claude-3-5-haiku-20241022',
    server: 'api.anthropic.com',
    weight: 1,
  },
  {
    provider: 'gcp.gemini',
    request: 'gemini-2.5-flash',
    response: 'gemini-2.5-flash',
    server: 'generativelanguage.googleapis.com',
    weight: 1,
  },
] as const;
const MODEL_WHEEL = MODELS.flatMap((m) => Array.from({ length: m.weight }, () => m));

const AGENTS = ['planner', 'researcher', 'support-triage', 'code-reviewer', 'sql-analyst', 'travel-booker'];
const SERVICES = ['support-bot', 'research-agent', 'coding-assistant', 'ops-copilot'];

const TOOLS: { name: string; args: () => unknown; result: () => unknown }[] = [
  {
    name: 'web_search',
    args: () => ({ query: pick(QUERIES), max_results: 5 }),
    result: () => ({
      results: [0, 1, 2].map((i) => ({
        title: `${pick(QUERIES)} — result ${i + 1}`,
        url: `https://example.com/articles/${randomHex(6)}`,
        snippet: pick(SNIPPETS),
      })),
    }),
  },
  {
    name: 'sql_query',
    args: () => ({
      sql: `SELECT customer_id, sum(amount) FROM orders WHERE created_at > now() - interval '${int(1, 90)} days' GROUP BY 1 ORDER BY 2 DESC LIMIT 10`,
    }),
    result: () => ({
      rows: Array.from({ length: 4 }, () => ({
        customer_id: int(1000, 99999),
        total: int(100, 99999) / 100,
      })),
      row_count: 4,
    }),
  },
  {
    name: 'read_file',
    args: () => ({
      path: `src/${pick(['server', 'client', 'utils', 'billing'])}/${pick(['index', 'handler', 'retry'])}.ts`,
    }),
    result: () => ({
      content: `export function handler(req) {\n  // ${pick(SNIPPETS)}\n  return retry(() => fetch(req.url), { attempts: 3 });\n}\n`,
      bytes: int(200, 9000),
    }),
  },
  {
    name: 'get_weather',
    args: () => ({ city: pick(['Paris', 'Lisbon', 'Osaka', 'Toronto', 'Nairobi']), unit: 'celsius' }),
    result: () => ({
      temperature: int(-5, 35),
      conditions: pick(['sunny', 'cloudy', 'rain', 'snow']),
      humidity: int(20, 95),
    }),
  },
  {
    name: 'create_ticket',
    args: () => ({
      title: pick(QUERIES),
      priority: pick(['low', 'medium', 'high']),
      labels: ['agent', 'triage'],
    }),
    result: () => ({
      id: `TCK-${int(1000, 99999)}`,
      status: 'open',
      url: `https://tickets.example.com/TCK-${int(1000, 99999)}`,
    }),
  },
];

const QUERIES = [
  'reset password link expired',
  'quarterly revenue by region',
  'flaky integration test in CI',
  'refund policy for annual plans',
  'latency spike after deploy',
  'compare vector databases for RAG',
  'book a flight to Lisbon next Tuesday',
];
const SNIPPETS = [
  'The retry budget was exhausted after three attempts because the upstream returned 502 responses.',
  'Annual plans can be refunded pro rata within 30 days of the renewal date, minus any usage credits.',
  'Customers in the EMEA region grew 14% quarter over quarter, driven by the mid-market segment.',
  'A missing index on orders(created_at) caused sequential scans once the table passed ten million rows.',
];
const ERRORS = [
  { type: 'TimeoutError', message: 'tool call timed out after 30000 ms' },
  { type: 'HTTPError', message: 'upstream returned 503 Service Unavailable' },
  { type: 'ValueError', message: 'invalid SQL: column "amount_usd" does not exist' },
];

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
const int = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));
const randomHex = (bytes: number) => randomBytes(bytes).toString('hex');

const s = (key: string, value: string): KeyValue => ({ key, value: { stringValue: value } });
const i = (key: string, value: number): KeyValue => ({ key, value: { intValue: value } });
const d = (key: string, value: number): KeyValue => ({ key, value: { doubleValue: value } });
const sa = (key: string, values: string[]): KeyValue => ({
  key,
  value: { arrayValue: { values: values.map((v) => ({ stringValue: v })) } },
});

const MS = 1_000_000n;
// fixed64 as a decimal string: protobufjs converts it exactly (a number would lose the low digits).
const nanos = (ns: bigint) => ns.toString();

/** Random ids drawn from a pooled buffer: one syscall per few thousand ids. */
class IdSource {
  private pool = Buffer.alloc(0);
  private offset = 0;
  take(n: number): Buffer {
    if (this.offset + n > this.pool.length) {
      this.pool = randomBytes(64 * 1024);
      this.offset = 0;
    }
    const id = Buffer.from(this.pool.subarray(this.offset, this.offset + n));
    this.offset += n;
    // All-zero ids are invalid in OTLP; vanishingly rare, but never send one.
    if (id.every((b) => b === 0)) id[0] = 1;
    return id;
  }
}

interface Trace {
  service: string;
  spans: OtlpSpan[];
}

function chatMessages(agent: string, toolCall: boolean): { input: string; output: string } {
  const question = pick(QUERIES);
  const input = JSON.stringify([
    {
      role: 'system',
      parts: [
        {
          type: 'text',
          content: `You are ${agent}, a careful assistant. Use tools when facts are needed; cite sources.`,
        },
      ],
    },
    {
      role: 'user',
      parts: [{ type: 'text', content: `Help me with: ${question}. Context so far: ${pick(SNIPPETS)}` }],
    },
  ]);
  const output = JSON.stringify([
    toolCall
      ? {
          role: 'assistant',
          parts: [
            {
              type: 'tool_call',
              id: `call_${randomHex(8)}`,
              name: pick(TOOLS).name,
              arguments: { query: question },
            },
          ],
          finish_reason: 'tool_call',
        }
      : {
          role: 'assistant',
          parts: [{ type: 'text', content: `Here is what I found: ${pick(SNIPPETS)}` }],
          finish_reason: 'stop',
        },
  ]);
  return { input, output };
}

export interface FactoryStats {
  traces: number;
  spans: number;
}

/** Makes batches of whole agent runs; each call gives fresh trace and span ids. */
export class AgentSpanFactory {
  private readonly ids = new IdSource();
  readonly stats: FactoryStats = { traces: 0, spans: 0 };

  constructor(private readonly spansPerBatch = 512) {}

  /** One `ExportTraceServiceRequest` (as a protobufjs-encodable object) of exactly `spansPerBatch` spans. */
  nextRequest(): OtlpRequest {
    const byService = new Map<string, OtlpSpan[]>();
    let remaining = this.spansPerBatch;
    // Batches end "now"; runs inside one started over the last few minutes.
    const now = BigInt(Date.now()) * MS;
    while (remaining > 0) {
      const trace = this.trace(remaining, now - BigInt(int(5_000, 300_000)) * MS);
      remaining -= trace.spans.length;
      const list = byService.get(trace.service) ?? [];
      list.push(...trace.spans);
      byService.set(trace.service, list);
      this.stats.traces++;
    }
    this.stats.spans += this.spansPerBatch;
    return {
      resourceSpans: [...byService].map(([service, spans]) => ({
        resource: {
          attributes: [
            s('service.name', service),
            s('service.version', '2.14.1'),
            s('service.instance.id', `${service}-7d9f8c6b5-x2k4p`),
            s('deployment.environment.name', 'production'),
            s('host.name', 'ip-10-0-12-34.ec2.internal'),
            s('telemetry.sdk.name', 'opentelemetry'),
            s('telemetry.sdk.language', 'nodejs'),
            s('telemetry.sdk.version', '2.2.0'),
            s('process.runtime.name', 'nodejs'),
            s('process.runtime.version', '20.19.4'),
          ],
        },
        scopeSpans: [{ scope: { name: '@agentrace/instrumentation', version: '0.4.0' }, spans }],
      })),
    };
  }

  /** A whole agent run of at most `budget` spans, children first (export order), root last. */
  private trace(budget: number, start: bigint): Trace {
    const traceId = this.ids.take(16);
    const rootId = this.ids.take(8);
    const agent = pick(AGENTS);
    const model = pick(MODEL_WHEEL);
    const spans: OtlpSpan[] = [];
    // Each iteration: a chat call, then one or two tool calls; then a final chat answer.
    const iterations = int(1, 6);
    let t = start + BigInt(int(1, 20)) * MS;
    let failed = false;
    const room = () => budget - 1 - spans.length; // keep one for the root
    for (let it = 0; it < iterations && room() >= 2; it++) {
      const chat = this.chatSpan(traceId, rootId, agent, model, t, true);
      spans.push(chat);
      t = BigInt(chat.endTimeUnixNano) + BigInt(int(1, 5)) * MS;
      const tools = Math.min(int(1, 2), room());
      for (let k = 0; k < tools; k++) {
        const tool = this.toolSpan(traceId, rootId, agent, t);
        if (tool.status.code === STATUS_ERROR) failed = true;
        spans.push(tool);
        t = BigInt(tool.endTimeUnixNano) + BigInt(int(1, 5)) * MS;
      }
    }
    if (room() >= 1) {
      const answer = this.chatSpan(traceId, rootId, agent, model, t, false);
      spans.push(answer);
      t = BigInt(answer.endTimeUnixNano);
    }
    const end = t + BigInt(int(1, 10)) * MS;
    spans.push({
      traceId,
      spanId: rootId,
      name: `invoke_agent ${agent}`,
      kind: SPAN_KIND_INTERNAL,
      startTimeUnixNano: nanos(start),
      endTimeUnixNano: nanos(end),
      attributes: [
        s('gen_ai.operation.name', 'invoke_agent'),
        s('gen_ai.agent.name', agent),
        s('gen_ai.agent.id', `asst_${randomHex(6)}`),
        s('gen_ai.provider.name', model.provider),
        s('gen_ai.conversation.id', `conv_${randomHex(8)}`),
        s('user.id', `user-${int(1, 5000)}`),
        s('agentrace.run.tags.env', 'production'),
        s('agentrace.run.tags.tier', pick(['free', 'pro', 'enterprise'])),
      ],
      events: [],
      status: failed ? { code: STATUS_ERROR, message: 'a tool call failed' } : { code: STATUS_OK },
    });
    return { service: pick(SERVICES), spans };
  }

  private chatSpan(
    traceId: Buffer,
    parent: Buffer,
    agent: string,
    model: (typeof MODELS)[number],
    start: bigint,
    toolCall: boolean,
  ): OtlpSpan {
    const input = int(400, 12_000);
    const output = int(20, 900);
    const attributes = [
      s('gen_ai.operation.name', 'chat'),
      s('gen_ai.provider.name', model.provider),
      s('gen_ai.request.model', model.request),
      s('gen_ai.response.model', model.response),
      s('gen_ai.response.id', `chatcmpl-${randomHex(12)}`),
      sa('gen_ai.response.finish_reasons', [toolCall ? 'tool_calls' : 'stop']),
      d('gen_ai.request.temperature', 0.2),
      i('gen_ai.request.max_tokens', 4096),
      i('gen_ai.usage.input_tokens', input),
      i('gen_ai.usage.output_tokens', output),
      s('gen_ai.agent.name', agent),
      s('server.address', model.server),
      i('server.port', 443),
    ];
    if (Math.random() < 0.4)
      attributes.push(i('gen_ai.usage.cache_read.input_tokens', Math.floor(input / 2)));
    // Content capture is on for some calls only, as in most deployments.
    if (Math.random() < 0.35) {
      const m = chatMessages(agent, toolCall);
      attributes.push(s('gen_ai.input.messages', m.input), s('gen_ai.output.messages', m.output));
    }
    const duration = BigInt(int(300, 4_000)) * MS;
    return {
      traceId,
      spanId: this.ids.take(8),
      parentSpanId: parent,
      name: `chat ${model.request}`,
      kind: SPAN_KIND_CLIENT,
      startTimeUnixNano: nanos(start),
      endTimeUnixNano: nanos(start + duration),
      attributes,
      events: [],
      status: { code: 0 },
    };
  }

  private toolSpan(traceId: Buffer, parent: Buffer, agent: string, start: bigint): OtlpSpan {
    const tool = pick(TOOLS);
    const duration = BigInt(int(5, 900)) * MS;
    const end = start + duration;
    const attributes = [
      s('gen_ai.operation.name', 'execute_tool'),
      s('gen_ai.tool.name', tool.name),
      s('gen_ai.tool.type', 'function'),
      s('gen_ai.tool.call.id', `call_${randomHex(8)}`),
      s('gen_ai.tool.call.arguments', JSON.stringify(tool.args())),
      s('gen_ai.agent.name', agent),
    ];
    const fails = Math.random() < 0.03;
    const events: OtlpEvent[] = [];
    const e = pick(ERRORS);
    if (fails) {
      events.push({
        timeUnixNano: nanos(end),
        name: 'exception',
        attributes: [
          s('exception.type', e.type),
          s('exception.message', e.message),
          s(
            'exception.stacktrace',
            `${e.type}: ${e.message}\n    at callTool (/app/dist/tools/${tool.name}.js:42:11)\n    at async Agent.step (/app/dist/agent.js:118:22)\n    at async Agent.run (/app/dist/agent.js:77:9)`,
          ),
        ],
      });
      attributes.push(s('error.type', e.type));
    } else {
      attributes.push(s('gen_ai.tool.call.result', JSON.stringify(tool.result())));
    }
    return {
      traceId,
      spanId: this.ids.take(8),
      parentSpanId: parent,
      name: `execute_tool ${tool.name}`,
      kind: SPAN_KIND_INTERNAL,
      startTimeUnixNano: nanos(start),
      endTimeUnixNano: nanos(end),
      attributes,
      events,
      status: fails ? { code: STATUS_ERROR, message: e.message } : { code: 0 },
    };
  }
}

/** The protobuf bytes of a request (what the receiver decodes after gunzip). */
export const encodeRequest = (request: OtlpRequest): Uint8Array =>
  ExportTraceServiceRequestType.encode(request).finish();

/** A request as sent on the wire: protobuf, gzip-compressed (exporters' default level). */
export const gzipRequest = (protobuf: Uint8Array): Buffer => gzipSync(protobuf);
