import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  Approval,
  AuditRecord,
  DecisionResult,
  listOf,
  newClaims,
  Run,
  Step,
  signDecisionToken,
} from '@agentrace/schemas';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { otlpExporter } from '../../../cli/src/testing/otel-client.ts';
import { startTestServer, type TestServer } from '../../../cli/src/testing/test-server.ts';
import { run } from '../run.ts';
import { traceTool } from '../tool.ts';
import { ApprovalTimeoutError, InvalidDecisionTokenError, ToolDeniedError } from './errors.ts';
import { configureGate } from './gate-config.ts';
import { guardTool } from './guard-tool.ts';

const APPROVAL_TTL_S = 2;
let s: TestServer;
let provider: BasicTracerProvider;
let approverKey: string;

beforeAll(async () => {
  s = await startTestServer({ AGENTRACE_APPROVAL_TTL_S: String(APPROVAL_TTL_S) });
  approverKey = (await s.api<{ key: string }>('/v1/admin/keys', json({ kind: 'user', role: 'approver' })))
    .body.key;
  const policy = await s.api<{ policy_id: string }>(
    '/v1/policies',
    json({
      project_id: s.projectId,
      document: {
        default: 'allow',
        rules: [
          { id: 'mail', tool: 'send_email', effect: 'require_approval' },
          {
            id: 'no-prod-delete',
            tool: 'delete_*',
            tags: { env: 'prod' },
            effect: 'block',
            reason: 'never in prod',
          },
        ],
      },
    }),
  );
  await s.api(`/v1/policies/${policy.body.policy_id}:activate`, { method: 'POST' });
  // The real OTel SDK, exporting each span over OTLP/protobuf to the real receiver as it ends.
  provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(otlpExporter('proto', s.otlpUrl, s.ingestKey))],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  configureGate({ apiUrl: s.apiUrl, apiKey: s.ingestKey, endpoint: s.otlpUrl });
});
afterAll(async () => {
  await provider?.shutdown();
  trace.disable();
  context.disable();
  await s?.close();
});

function json(body: unknown, key?: string): RequestInit & { key?: string } {
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), key };
}

/** Runs `fn` inside a run of its own (tags env=prod) and answers the run's id with what `fn` gave or threw. */
async function gatedRun<T>(fn: () => Promise<T>): Promise<{ runId: string; outcome: T | Error }> {
  let traceId = '';
  const outcome = await run('gated agent', { agent: 'ops-bot', tags: { env: 'prod' } }, async (handle) => {
    traceId = handle.traceId;
    return fn().catch((err: Error) => err);
  });
  await provider.forceFlush();
  const runs = await s.api<{ data: Run[] }>(`/v1/runs?trace_id=${traceId}`);
  return { runId: runs.body.data[0]!.run_id, outcome };
}
const stepsOf = async (runId: string) =>
  listOf(Step).parse((await s.api(`/v1/runs/${runId}/steps`)).body).data;
const runOf = async (runId: string) => Run.parse((await s.api(`/v1/runs/${runId}`)).body);

/** Approves or denies the newest pending approval of `tool` as the approver, once it shows up. */
async function decideWhenAsked(tool: string, action: 'approve' | 'deny', comment: string) {
  for (;;) {
    const pending = z
      .object({ data: z.array(Approval) })
      .parse((await s.api('/v1/approvals?status=pending', { key: approverKey })).body)
      .data.find((a) => a.tool_name === tool);
    if (pending) {
      const res = await s.api(
        `/v1/approvals/${pending.approval_id}:${action}`,
        json({ comment }, approverKey),
      );
      expect(res.status).toBe(200);
      return pending.approval_id;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('guardTool through the real server', () => {
  it('runs an allowed tool in a step bound to its token', async () => {
    let ran = 0;
    const { runId, outcome } = await gatedRun(() =>
      guardTool('search', { q: 'status page' }, () => ++ran && 'hits'),
    );
    expect([outcome, ran]).toEqual(['hits', 1]);
    const steps = await stepsOf(runId);
    const policy = steps.find((x) => x.type === 'policy')!;
    const tool = steps.find((x) => x.type === 'tool')!;
    expect(policy.payload.output).toMatchObject({ decision: 'allow' });
    expect(tool).toMatchObject({
      tool_name: 'search',
      decision_token_id: policy.decision_token_id,
      governance_violation: null,
    });
    expect(tool.payload.attributes).toMatchObject({ 'agentrace.decision.source': 'policy' });
    const r = await runOf(runId);
    expect([r.name, r.tags, r.governance_violations]).toEqual(['gated agent', { env: 'prod' }, 0]);
  });

  it('throws ToolDeniedError for a blocked tool, which does not run', async () => {
    let ran = false;
    const { runId, outcome } = await gatedRun(() =>
      guardTool('delete_user', { id: 7 }, () => {
        ran = true;
      }),
    );
    expect(outcome).toBeInstanceOf(ToolDeniedError);
    expect(outcome).toMatchObject({ ruleId: 'no-prod-delete', reason: 'never in prod' });
    expect(ran).toBe(false);
    const steps = await stepsOf(runId);
    expect(steps.map((x) => x.type)).toEqual(['policy', 'agent']);
    expect(steps[0]?.payload.output).toMatchObject({ decision: 'deny', rule_id: 'no-prod-delete' });
  });

  it('waits for an approver, then runs the tool with the approval recorded on its step', async () => {
    const started = Date.now();
    const approver = decideWhenAsked('send_email', 'approve', 'looks right');
    const { runId, outcome } = await gatedRun(() =>
      guardTool('send_email', { to: 'cfo@example.com' }, () => 'sent', { waitMs: 20_000 }),
    );
    const approvalId = await approver;
    expect(outcome).toBe('sent');
    expect(Date.now() - started).toBeLessThan(10_000);
    const steps = await stepsOf(runId);
    expect(steps.filter((x) => x.type !== 'agent').map((x) => x.type)).toEqual([
      'policy',
      'approval',
      'tool',
    ]);
    const tool = steps.find((x) => x.type === 'tool')!;
    expect(tool.payload.attributes).toMatchObject({
      'agentrace.decision.source': 'approval',
      'agentrace.decision.approval_id': approvalId,
    });
    expect(tool.governance_violation).toBeNull();
    expect(steps.find((x) => x.type === 'approval')?.decision_token_id).toBe(tool.decision_token_id);
  });

  it('throws ToolDeniedError with the comment when the approver denies', async () => {
    const approver = decideWhenAsked('send_email', 'deny', 'not to the CFO');
    let ran = false;
    const { outcome } = await gatedRun(() =>
      guardTool('send_email', { to: 'cfo@example.com', n: 2 }, () => {
        ran = true;
      }),
    );
    const approvalId = await approver;
    expect(outcome).toBeInstanceOf(ToolDeniedError);
    expect(outcome).toMatchObject({ reason: 'not to the CFO', approvalId });
    expect(ran).toBe(false);
  });

  it('throws ToolDeniedError when the approval expires unanswered, and the expiry is in the trace', async () => {
    const { runId, outcome } = await gatedRun(() =>
      guardTool('send_email', { to: 'x@y.z' }, () => 'sent', { waitMs: 20_000 }),
    );
    expect(outcome).toBeInstanceOf(ToolDeniedError);
    expect((outcome as ToolDeniedError).reason).toBe('the approval request expired');
    const approval = (await stepsOf(runId)).find((x) => x.type === 'approval');
    expect(approval?.payload.output).toMatchObject({ status: 'expired' });
  });

  it('throws ApprovalTimeoutError when nobody decides within waitMs', async () => {
    const started = Date.now();
    const { outcome } = await gatedRun(() =>
      guardTool('send_email', { to: 'late@y.z' }, () => 'sent', { waitMs: 300 }),
    );
    expect(outcome).toBeInstanceOf(ApprovalTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(Date.now() - started).toBeLessThan(APPROVAL_TTL_S * 1000);
  });

  it('runs a blocked tool on break-glass with an admin key, marked in the trace and audited', async () => {
    const { runId, outcome } = await gatedRun(() =>
      guardTool('delete_user', { id: 9 }, () => 'deleted', {
        breakGlass: { reason: 'incident 7', apiKey: s.adminKey },
      }),
    );
    expect(outcome).toBe('deleted');
    const steps = await stepsOf(runId);
    const policy = steps.find((x) => x.type === 'policy')!;
    expect(policy).toMatchObject({
      name: 'break-glass delete_user',
      payload: { output: { break_glass: true, reason: 'incident 7' } },
    });
    const tool = steps.find((x) => x.type === 'tool')!;
    expect(tool).toMatchObject({ decision_token_id: policy.decision_token_id, governance_violation: null });
    expect(tool.payload.attributes).toMatchObject({ 'agentrace.decision.source': 'break_glass' });
    const audit = listOf(AuditRecord).parse((await s.api('/v1/audit?action=decision.break_glass')).body).data;
    expect(audit[0]).toMatchObject({ target: policy.decision_token_id, details: { reason: 'incident 7' } });
  });

  it('flags a second tool step that replays the token of the first', async () => {
    const { runId } = await gatedRun(async () => {
      await guardTool('search', { q: 'a' }, () => 'hits');
      const token = await tokenOfRun(await currentRunId());
      await traceTool('search', (span) => span.setAttribute('agentrace.decision.token_id', token), {
        args: { q: 'a' },
      });
    });
    const tools = (await stepsOf(runId)).filter((x) => x.type === 'tool');
    expect(tools.map((x) => x.governance_violation)).toEqual([null, 'token_reused']);
    expect((await runOf(runId)).governance_violations).toBe(1);
  });

  it('flags a tool step whose arguments differ from the ones its token was issued for', async () => {
    const { runId } = await gatedRun(async () => {
      const runIdNow = await currentRunId();
      const d = DecisionResult.parse(
        (
          await s.api(
            '/v1/decisions',
            json({ run_id: runIdNow, tool_name: 'search', args: { q: 'a' } }, s.ingestKey),
          )
        ).body,
      );
      await traceTool('search', (span) => span.setAttribute('agentrace.decision.token_id', d.token_id!), {
        args: { q: 'changed' },
      });
    });
    const tool = (await stepsOf(runId)).find((x) => x.type === 'tool');
    expect(tool?.governance_violation).toBe('args_mismatch');
  });
});

/** The one token issued in a run. */
async function tokenOfRun(runId: string): Promise<string> {
  const { rows } = await s.db.pool.query<{ id: string }>('SELECT id FROM decision_token WHERE run_id = $1', [
    runId,
  ]);
  expect(rows).toHaveLength(1);
  return rows[0]!.id;
}

/** The id the server gave the active trace's run (the gate declared it). */
async function currentRunId(): Promise<string> {
  const traceId = trace.getActiveSpan()!.spanContext().traceId;
  const res = await fetch(`${s.otlpUrl}/v1/runs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${s.ingestKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'gated agent', tags: { env: 'prod' }, trace_id: traceId }),
  });
  return Run.parse(await res.json()).run_id;
}

describe('guardTool with a server answer that does not hold up', () => {
  let proxy: Server;
  /** Rewrites the token of each decision the proxy passes on; null: passes it on unchanged. */
  let rewrite: ((decision: DecisionResult) => Promise<string>) | null = null;

  beforeAll(async () => {
    // Between the SDK and the real API: what a tampering man in the middle (or a broken server) would send.
    proxy = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const upstream = await fetch(s.apiUrl + req.url, {
        method: req.method,
        headers: { authorization: req.headers.authorization ?? '', 'content-type': 'application/json' },
        body: req.method === 'POST' ? Buffer.concat(chunks) : undefined,
      });
      let body = await upstream.text();
      if (rewrite && req.url === '/v1/decisions' && upstream.ok) {
        const decision = DecisionResult.parse(JSON.parse(body));
        body = JSON.stringify({ ...decision, token: await rewrite(decision) });
      }
      res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    configureGate({
      apiUrl: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
      apiKey: s.ingestKey,
      endpoint: s.otlpUrl,
    });
  });
  afterAll(async () => {
    configureGate({ apiUrl: s.apiUrl, apiKey: s.ingestKey, endpoint: s.otlpUrl });
    await new Promise((resolve) => proxy.close(resolve));
  });

  const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString());

  it('refuses a token signed with another key (a forgery), and does not run the tool', async () => {
    const forger = generateKeyPairSync('ed25519', {
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    rewrite = async (d) => signDecisionToken(newClaims({ ...claimsOf(d.token!) }, 300), forger.privateKey);
    let ran = false;
    const { outcome } = await gatedRun(() =>
      guardTool('search', { q: 'forged' }, () => {
        ran = true;
      }),
    );
    expect(outcome).toBeInstanceOf(InvalidDecisionTokenError);
    expect((outcome as InvalidDecisionTokenError).reason).toBe('bad signature');
    expect(ran).toBe(false);
  });

  it('refuses a genuine token issued for other arguments', async () => {
    rewrite = async (d) => {
      const claims = claimsOf(d.token!);
      const other = await s.api(
        '/v1/decisions',
        json({ run_id: claims.run_id, tool_name: 'search', args: { q: 'other' } }, s.ingestKey),
      );
      return DecisionResult.parse(other.body).token!;
    };
    let ran = false;
    const { outcome } = await gatedRun(() =>
      guardTool('search', { q: 'mine' }, () => {
        ran = true;
      }),
    );
    expect(outcome).toBeInstanceOf(InvalidDecisionTokenError);
    expect((outcome as InvalidDecisionTokenError).reason).toBe('issued for other arguments');
    expect(ran).toBe(false);
  });

  it('refuses a genuine token of another run', async () => {
    const elsewhere = await gatedRun(async () => currentRunId());
    rewrite = async () => {
      const other = await s.api(
        '/v1/decisions',
        json({ run_id: elsewhere.runId, tool_name: 'search', args: { q: 'x' } }, s.ingestKey),
      );
      return DecisionResult.parse(other.body).token!;
    };
    const { outcome } = await gatedRun(() => guardTool('search', { q: 'x' }, () => 'ran'));
    expect((outcome as InvalidDecisionTokenError).reason).toBe('issued for another run');
  });

  it('refuses a malformed token', async () => {
    rewrite = async () => `${randomUUID()}.x`;
    const { outcome } = await gatedRun(() => guardTool('search', { q: 'y' }, () => 'ran'));
    expect(outcome).toBeInstanceOf(InvalidDecisionTokenError);
  });
});
