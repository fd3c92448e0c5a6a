import { Approval, DecisionResult, ErrorEnvelope, Run } from '@agentrace/schemas';
import { z } from 'zod';
import { GateRequestError } from './errors.ts';
import type { GateConfig } from './gate-config.ts';

const PublicKeys = z.object({
  keys: z.array(z.object({ key_id: z.uuid(), public_key: z.string() })),
});

/** The longest one long-poll request waits on the server (its limit is 60 s). */
const LONG_POLL_MS = 30_000;

/** A call to the server; a non-2xx answer or a body of the wrong shape is a GateRequestError. */
async function call<S extends z.ZodType>(
  schema: S,
  url: string,
  key: string,
  init: { method?: string; body?: unknown; signal?: AbortSignal } = {},
): Promise<z.infer<S>> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method ?? 'GET',
      headers: {
        authorization: `Bearer ${key}`,
        ...(init.body ? { 'content-type': 'application/json' } : {}),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: init.signal,
    });
  } catch (err) {
    throw new GateRequestError(`${url} is unreachable`, null, null, { cause: err });
  }
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: reported below by the status or the schema.
  }
  if (!res.ok) {
    const envelope = ErrorEnvelope.safeParse(json);
    const error = envelope.success ? envelope.data.error : null;
    throw new GateRequestError(
      `${url} answered ${res.status}${error ? `: ${error.message}` : ''}`,
      res.status,
      error?.code ?? null,
    );
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new GateRequestError(`${url} answered an unexpected body`, res.status);
  return parsed.data;
}

/** The HTTP side of the gate: decisions, approvals, public keys and run declarations. */
export class GateClient {
  readonly #config: GateConfig;

  constructor(config: GateConfig) {
    this.#config = config;
  }

  /** `POST /v1/decisions`, or `POST /v1/decisions:break-glass` with an admin key and a reason. */
  decide(
    body: { run_id: string; tool_name: string; args: unknown },
    breakGlass?: { reason: string; apiKey: string },
  ): Promise<DecisionResult> {
    const { apiUrl, apiKey } = this.#config;
    if (breakGlass) {
      return call(DecisionResult, `${apiUrl}/v1/decisions:break-glass`, breakGlass.apiKey, {
        method: 'POST',
        body: { ...body, reason: breakGlass.reason },
      });
    }
    return call(DecisionResult, `${apiUrl}/v1/decisions`, apiKey, { method: 'POST', body });
  }

  /**
   * The approval once it is no longer pending, or as it is at `deadline` (ms since the epoch): long-polls
   * the server, each request held until the approval changes or 30 s pass, never a busy loop.
   */
  async awaitApproval(approvalId: string, deadline: number): Promise<Approval> {
    const { apiUrl, apiKey } = this.#config;
    for (;;) {
      const left = deadline - Date.now();
      const wait = Math.max(0, Math.min(LONG_POLL_MS, left));
      const approval = await call(Approval, `${apiUrl}/v1/approvals/${approvalId}?wait=${wait}ms`, apiKey);
      if (approval.status !== 'pending' || Date.now() >= deadline) return approval;
    }
  }

  /** The server's public keys by key id (the current one and those retired by a rotation). */
  async publicKeys(): Promise<Map<string, string>> {
    const { apiUrl, apiKey } = this.#config;
    const { keys } = await call(PublicKeys, `${apiUrl}/v1/decisions/public-key`, apiKey);
    return new Map(keys.map((k) => [k.key_id, k.public_key]));
  }

  /** Declares the run of a trace on the receiver (`POST /v1/runs`), and answers its id. */
  async declareRun(traceId: string, run: { name: string; tags: Record<string, string> }): Promise<string> {
    const { endpoint, apiKey } = this.#config;
    if (!endpoint) {
      throw new GateRequestError(
        'a run without an explicit runId is declared on the receiver: set AGENTRACE_ENDPOINT (or pass runId)',
      );
    }
    const declared = await call(Run, `${endpoint}/v1/runs`, apiKey, {
      method: 'POST',
      body: { name: run.name, tags: run.tags, trace_id: traceId },
    });
    return declared.run_id;
  }
}
