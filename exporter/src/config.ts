import os from 'node:os';
import path from 'node:path';
import { parseKeyPairsIntoRecord } from '@opentelemetry/core';
import { z } from 'zod';

const Millis = z.coerce.number().int().positive();
const Count = z.coerce.number().int().positive();

/**
 * The options of `startAgentrace`; each one left out is read from the environment (see `ENV`).
 * @example const options: AgentraceOptions = { endpoint: 'http://127.0.0.1:4318', apiKey: key, serviceName: 'planner' };
 */
export const AgentraceOptions = z.strictObject({
  /** The receiver's OTLP/HTTP base URL; `/v1/traces` is appended. */
  endpoint: z.url().optional(),
  /** An ingest key, sent as `Authorization: Bearer <apiKey>`. */
  apiKey: z.string().min(1).optional(),
  /** More request headers. */
  headers: z.record(z.string(), z.string()).optional(),
  /** `service.name` of the resource. */
  serviceName: z.string().min(1).optional(),
  /** More resource attributes. */
  resourceAttributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  /** How long finished spans wait to be batched before export. */
  batchDelayMs: Millis.optional(),
  /** Finished spans kept in memory at most while exports are under way; beyond it new spans are dropped. */
  maxQueueSpans: Count.optional(),
  /** Spans per export request at most. */
  maxBatchSpans: Count.optional(),
  /** Time one export request may take; a batch whose request fails or times out is spooled. */
  exportTimeoutMs: Millis.optional(),
  /** Where undelivered spans wait on disk. */
  spoolDir: z.string().min(1).optional(),
  /** Disk the spool may use at most; 0 turns the spool off. */
  spoolMaxBytes: z.coerce.number().int().nonnegative().optional(),
  /** The longest wait between two replay attempts while the receiver stays unreachable. */
  spoolMaxBackoffMs: Millis.optional(),
});
export type AgentraceOptions = z.input<typeof AgentraceOptions>;

/**
 * The environment variables of each option, first found wins (an option passed in code wins over all):
 * ours, then the OTel SDK's standard ones.
 * @example ENV.apiKey // ['AGENTRACE_API_KEY', 'AGENTRACE_INGEST_KEY']
 */
export const ENV = {
  endpoint: ['AGENTRACE_ENDPOINT', 'OTEL_EXPORTER_OTLP_ENDPOINT'],
  apiKey: ['AGENTRACE_API_KEY', 'AGENTRACE_INGEST_KEY'],
  headers: ['OTEL_EXPORTER_OTLP_TRACES_HEADERS', 'OTEL_EXPORTER_OTLP_HEADERS'],
  serviceName: ['AGENTRACE_SERVICE_NAME', 'OTEL_SERVICE_NAME'],
  resourceAttributes: ['OTEL_RESOURCE_ATTRIBUTES'],
  batchDelayMs: ['AGENTRACE_BATCH_DELAY_MS', 'OTEL_BSP_SCHEDULE_DELAY'],
  maxQueueSpans: ['AGENTRACE_MAX_QUEUE_SPANS', 'OTEL_BSP_MAX_QUEUE_SIZE'],
  maxBatchSpans: ['AGENTRACE_MAX_BATCH_SPANS', 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE'],
  exportTimeoutMs: [
    'AGENTRACE_EXPORT_TIMEOUT_MS',
    'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT',
    'OTEL_EXPORTER_OTLP_TIMEOUT',
  ],
  spoolDir: ['AGENTRACE_SPOOL_DIR'],
  spoolMaxBytes: ['AGENTRACE_SPOOL_MAX_BYTES'],
  spoolMaxBackoffMs: ['AGENTRACE_SPOOL_MAX_BACKOFF_MS'],
} as const satisfies Record<keyof AgentraceOptions, readonly string[]>;

/** A full traces URL, used as it is (OTel's rule for the per-signal endpoint). */
const TRACES_ENDPOINT_ENV = 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT';
const KEY_VALUE_LISTS: ReadonlySet<string> = new Set(['headers', 'resourceAttributes']);

/**
 * The resolved settings, every one decided.
 * @example const { tracesUrl, spool } = resolveConfig({}, process.env);
 */
export interface ExporterConfig {
  tracesUrl: string;
  headers: Record<string, string>;
  serviceName: string;
  resourceAttributes: Record<string, string | number | boolean>;
  batchDelayMs: number;
  maxQueueSpans: number;
  maxBatchSpans: number;
  exportTimeoutMs: number;
  /** Null when the spool is off. */
  spool: { dir: string; maxBytes: number; maxBackoffMs: number } | null;
}

const DEFAULTS = {
  endpoint: 'http://127.0.0.1:4318',
  serviceName: 'unknown_service:node',
  // Short, so a step shows up in the UI within a second of ending.
  batchDelayMs: 200,
  maxQueueSpans: 2048,
  maxBatchSpans: 512,
  exportTimeoutMs: 5000,
  spoolMaxBytes: 64 * 1024 * 1024,
  spoolMaxBackoffMs: 30_000,
};

/**
 * Resolves the options: given in code, else from the environment, else the defaults; validated with zod.
 * Throws an error naming every bad setting, and when no key is given at all (the receiver needs one).
 * @example resolveConfig({ serviceName: 'planner' }, process.env).tracesUrl // 'http://127.0.0.1:4318/v1/traces'
 */
export function resolveConfig(options: AgentraceOptions, env: NodeJS.ProcessEnv): ExporterConfig {
  const given = AgentraceOptions.safeParse(options);
  if (!given.success)
    throw new Error(`startAgentrace: invalid options: ${describeProblems(given.error, () => 'option')}`);
  const raw: Record<string, unknown> = {};
  const sources: Record<string, string> = {};
  for (const [name, envNames] of Object.entries(ENV)) {
    const fromCode = (given.data as Record<string, unknown>)[name];
    if (fromCode !== undefined) {
      raw[name] = fromCode;
      continue;
    }
    const envName = envNames.find((n) => env[n]);
    if (envName === undefined) continue;
    sources[name] = envName;
    raw[name] = KEY_VALUE_LISTS.has(name) ? parseKeyPairsIntoRecord(env[envName]) : env[envName];
  }
  const parsed = AgentraceOptions.safeParse(raw);
  if (!parsed.success) {
    throw new Error(
      `startAgentrace: invalid settings: ${describeProblems(parsed.error, (name) => sources[name] ?? 'option')}`,
    );
  }
  const o = parsed.data;
  const headers = Object.fromEntries(Object.entries(o.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  if (o.apiKey) headers.authorization = `Bearer ${o.apiKey}`;
  if (!headers.authorization) {
    throw new Error(
      'startAgentrace: no API key: pass apiKey, or set AGENTRACE_API_KEY to an ingest key (or an Authorization ' +
        'header in OTEL_EXPORTER_OTLP_HEADERS)',
    );
  }
  const serviceName = o.serviceName ?? DEFAULTS.serviceName;
  const spoolMaxBytes = o.spoolMaxBytes ?? DEFAULTS.spoolMaxBytes;
  return {
    tracesUrl: tracesUrl(o.endpoint, sources.endpoint, env),
    headers,
    serviceName,
    resourceAttributes: o.resourceAttributes ?? {},
    batchDelayMs: o.batchDelayMs ?? DEFAULTS.batchDelayMs,
    maxQueueSpans: o.maxQueueSpans ?? DEFAULTS.maxQueueSpans,
    maxBatchSpans: Math.min(
      o.maxBatchSpans ?? DEFAULTS.maxBatchSpans,
      o.maxQueueSpans ?? DEFAULTS.maxQueueSpans,
    ),
    exportTimeoutMs: o.exportTimeoutMs ?? DEFAULTS.exportTimeoutMs,
    spool:
      spoolMaxBytes === 0
        ? null
        : {
            dir: o.spoolDir ?? defaultSpoolDir(serviceName),
            maxBytes: spoolMaxBytes,
            maxBackoffMs: o.spoolMaxBackoffMs ?? DEFAULTS.spoolMaxBackoffMs,
          },
  };
}

/** The per-signal OTel variable wins over the generic one, not over ours or code. */
function tracesUrl(endpoint: string | undefined, source: string | undefined, env: NodeJS.ProcessEnv): string {
  const perSignal = env[TRACES_ENDPOINT_ENV];
  if (perSignal && (endpoint === undefined || source === 'OTEL_EXPORTER_OTLP_ENDPOINT')) {
    if (!z.url().safeParse(perSignal).success)
      throw new Error(`startAgentrace: ${TRACES_ENDPOINT_ENV} is not a URL`);
    return perSignal;
  }
  return `${(endpoint ?? DEFAULTS.endpoint).replace(/\/+$/, '')}/v1/traces`;
}

/** Per service, under the OS temp dir: it survives restarts of the agent, not of the machine. */
function defaultSpoolDir(serviceName: string): string {
  return path.join(os.tmpdir(), 'agentrace-spool', serviceName.replace(/[^\w.-]+/g, '_'));
}

function describeProblems(error: z.ZodError, source: (name: string) => string): string {
  return error.issues
    .map((i) => `${String(i.path[0])} (${source(String(i.path[0]))}): ${i.message}`)
    .join('; ');
}
