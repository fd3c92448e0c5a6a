import { AGENTRACE } from '@agentrace/schemas';
import { type Span, trace } from '@opentelemetry/api';
import { z } from 'zod';
import { currentScope } from '../agent-scope.ts';
import { parseArguments } from '../call-site.ts';
import { traceTool } from '../tool.ts';
import {
  ApprovalTimeoutError,
  GateRequestError,
  InvalidDecisionTokenError,
  ToolDeniedError,
} from './errors.ts';
import { GateClient } from './gate-client.ts';
import { gateConfig } from './gate-config.ts';
import { checkToken } from './token-check.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const GuardArguments = z.object({
  name: z.string().min(1),
  /** A JSON object: what the tool is called with, as the policy's argument conditions see it. */
  args: z.record(z.string(), z.unknown()),
  options: z
    .strictObject({
      /** How long to wait for a person when the call needs an approval (default 60 s; 0: do not wait). */
      waitMs: z.number().int().nonnegative().default(60_000),
      /** The run to gate (a UUID); default: the enclosing run's explicit id, else the run of its trace. */
      runId: z.string().regex(UUID, 'must be a UUID').optional(),
      /** An admin's override of the policy, audited on the server: the reason and an admin key. */
      breakGlass: z.strictObject({ reason: z.string().trim().min(1), apiKey: z.string().min(1) }).optional(),
    })
    .default({ waitMs: 60_000 }),
});
/**
 * The options of `guardTool()`.
 * @example const options: GuardOptions = { waitMs: 5 * 60_000 };
 */
export type GuardOptions = z.input<typeof GuardArguments>['options'];

/** Run ids of traces the gate declared (a trace is one run), kept for the traces of a long-lived agent. */
const declaredRuns = new Map<string, Promise<string>>();
const DECLARED_LIMIT = 1_000;

/**
 * Runs a tool only if the server's policy allows it (DESIGN §6): asks `POST /v1/decisions` first; when the
 * call needs a person, waits for the approval (long-polls, up to `waitMs`); checks the token locally
 * (Ed25519 signature with the server's public key, expiry, run, tool, canonical argument hash); then runs
 * `fn` in a tool step (`execute_tool <name>`, like `traceTool()`) that carries the token id
 * (`agentrace.decision.token_id`), how the call was allowed and the approval, so the server can bind what
 * was approved to what ran. Throws `ToolDeniedError` (blocked, denied, or the approval expired),
 * `ApprovalTimeoutError` (no decision within `waitMs`), `InvalidDecisionTokenError`, or `GateRequestError`
 * (no decision could be had: the gate fails closed); in each case `fn` did not run.
 * Needs `AGENTRACE_API_URL` and `AGENTRACE_API_KEY` (or `configureGate()`); a run without an explicit id
 * is declared on the receiver (`AGENTRACE_ENDPOINT`) to learn its id.
 * @example
 * await run('support', { agent: 'support-bot', tags: { env: 'prod' } }, async () => {
 *   try {
 *     await guardTool('refund', { order, amount }, () => payments.refund(order, amount), { waitMs: 120_000 });
 *   } catch (err) {
 *     if (err instanceof ToolDeniedError || err instanceof ApprovalTimeoutError) return 'escalated to a human';
 *     throw err;
 *   }
 * });
 */
export async function guardTool<T>(
  name: string,
  args: Record<string, unknown>,
  fn: (span: Span) => T | Promise<T>,
  options?: GuardOptions,
): Promise<T> {
  const parsed = parseArguments('guardTool', GuardArguments, { name, args, options });
  const o = parsed.options;
  // What the span records and the server hashes: the arguments as JSON carries them.
  const sent = JSON.parse(JSON.stringify(parsed.args)) as Record<string, unknown>;
  const config = gateConfig();
  const client = new GateClient(config);
  const runId = await runIdOf(client, o.runId);

  const allowed = await allowedCall(client, { run_id: runId, tool_name: parsed.name, args: sent }, o);
  const verdict = await checkToken(client, config.apiUrl, allowed.token, {
    runId,
    toolName: parsed.name,
    args: sent,
  });
  if (!verdict.ok) throw new InvalidDecisionTokenError(parsed.name, verdict.reason);

  return traceTool(
    parsed.name,
    async (span) => {
      span.setAttributes({
        [AGENTRACE.decisionTokenId]: verdict.claims.token_id,
        [AGENTRACE.decisionSource]: allowed.source,
        ...(allowed.approvalId ? { [AGENTRACE.decisionApprovalId]: allowed.approvalId } : {}),
      });
      return await fn(span);
    },
    { args: sent },
  );
}

/**
 * The allow's token and how it came (the policy, an approval after waiting for it, or break-glass), or
 * the typed error that says why there is none.
 */
async function allowedCall(
  client: GateClient,
  call: { run_id: string; tool_name: string; args: Record<string, unknown> },
  o: z.infer<typeof GuardArguments>['options'],
): Promise<{ token: string; source: 'policy' | 'approval' | 'break_glass'; approvalId: string | null }> {
  const decision = await client.decide(call, o.breakGlass);
  if (decision.decision === 'deny') {
    throw new ToolDeniedError(call.tool_name, decision.reason, decision.rule_id, decision.approval_id);
  }
  if (decision.decision === 'allow') {
    if (!decision.token) throw new InvalidDecisionTokenError(call.tool_name, 'an allow without a token');
    return { token: decision.token, source: o.breakGlass ? 'break_glass' : 'policy', approvalId: null };
  }
  const approvalId = decision.approval_id!;
  const approval = await client.awaitApproval(approvalId, Date.now() + o.waitMs);
  if (approval.status === 'pending') throw new ApprovalTimeoutError(call.tool_name, approvalId, o.waitMs);
  if (approval.status !== 'approved') {
    const reason = approval.status === 'expired' ? 'the approval request expired' : approval.comment;
    throw new ToolDeniedError(call.tool_name, reason, decision.rule_id, approvalId);
  }
  if (!approval.token) throw new InvalidDecisionTokenError(call.tool_name, 'an approval without a token');
  return { token: approval.token, source: 'approval', approvalId };
}

/** The run to ask about: given, the enclosing run's explicit id, or the run of the active trace (declared). */
async function runIdOf(client: GateClient, given: string | undefined): Promise<string> {
  if (given) return given.toLowerCase();
  const scope = currentScope();
  if (scope.runId && UUID.test(scope.runId)) return scope.runId.toLowerCase();
  const traceId = trace.getActiveSpan()?.spanContext().traceId;
  if (!traceId || !scope.run || scope.runId) {
    throw new GateRequestError('guardTool() runs inside run() (or with options.runId, a UUID)');
  }
  let declared = declaredRuns.get(traceId);
  if (!declared) {
    if (declaredRuns.size >= DECLARED_LIMIT) declaredRuns.clear();
    declared = client.declareRun(traceId, scope.run);
    declaredRuns.set(traceId, declared);
    declared.catch(() => declaredRuns.delete(traceId));
  }
  return declared;
}
