import { z } from 'zod';
import { describeIssues } from '../call-site.ts';
import { GateRequestError } from './errors.ts';

/**
 * Where the policy gate asks (`guardTool()`); each option left out is read from the environment (`GATE_ENV`).
 * @example configureGate({ apiUrl: 'http://127.0.0.1:8080', apiKey: ingestKey, endpoint: 'http://127.0.0.1:4318' });
 */
export const GateOptions = z.strictObject({
  /** The query API's base URL (decisions, approvals, the public key). */
  apiUrl: z.url().optional(),
  /** An ingest key of the agent's project (or a user key), sent as `Authorization: Bearer <apiKey>`. */
  apiKey: z.string().min(1).optional(),
  /**
   * The receiver's base URL, where the gate declares a run that has no explicit id (`POST /v1/runs` with its
   * trace id), to learn the run id its spans will be stored under.
   */
  endpoint: z.url().optional(),
});
export type GateOptions = z.input<typeof GateOptions>;

/** The environment variables of each option, first found wins. */
export const GATE_ENV = {
  apiUrl: ['AGENTRACE_API_URL'],
  apiKey: ['AGENTRACE_API_KEY', 'AGENTRACE_INGEST_KEY'],
  endpoint: ['AGENTRACE_ENDPOINT', 'OTEL_EXPORTER_OTLP_ENDPOINT'],
} as const;

export interface GateConfig {
  apiUrl: string;
  apiKey: string;
  endpoint: string | null;
}

let configured: GateOptions = {};

/**
 * Sets where `guardTool()` asks for decisions; options left out come from the environment.
 * @example configureGate({ apiUrl: process.env.API_URL, apiKey: process.env.INGEST_KEY });
 */
export function configureGate(options: GateOptions): void {
  const parsed = GateOptions.safeParse(options);
  if (!parsed.success) throw new TypeError(`agentrace configureGate(): ${describeIssues(parsed.error)}`);
  configured = parsed.data;
}

const trimSlash = (url: string) => url.replace(/\/+$/, '');

/** The gate's configuration now: configureGate()'s options, then the environment. */
export function gateConfig(env: NodeJS.ProcessEnv = process.env): GateConfig {
  const fromEnv = (names: readonly string[]) =>
    names.map((n) => env[n]).find((v) => v !== undefined && v !== '');
  const apiUrl = configured.apiUrl ?? fromEnv(GATE_ENV.apiUrl);
  const apiKey = configured.apiKey ?? fromEnv(GATE_ENV.apiKey);
  const endpoint = configured.endpoint ?? fromEnv(GATE_ENV.endpoint);
  if (!apiUrl || !apiKey) {
    throw new GateRequestError(
      'the policy gate needs AGENTRACE_API_URL and AGENTRACE_API_KEY (or configureGate())',
    );
  }
  return { apiUrl: trimSlash(apiUrl), apiKey, endpoint: endpoint ? trimSlash(endpoint) : null };
}
