import { randomUUID } from 'node:crypto';
import { Approval, AssignedSteps, DecisionResult, listOf, Run, Step } from '@agentrace/schemas';
import { createTenant } from '@agentrace/store';
import type { Span } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportSpans, otlpExporter, recordingTracer } from './testing/otel-client.ts';
import { startTestServer, type TestServer } from './testing/test-server.ts';

const StepList = listOf(Step);

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
  const policy = await s.api<{ policy_id: string }>('/v1/policies', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      project_id: s.projectId,
      document: {
        default: 'allow',
        rules: [
          { id: 'mail', tool: 'send_email', effect: 'require_approval' },
          { id: 'no-delete', tool: 'delete_*', effect: 'block' },
          {
            id: 'big-refund',
            tool: 'refund',
            args: [{ path: '$.amount', op: 'gt', value: 100 }],
            effect: 'require_approval',
          },
        ],
      },
    }),
  });
  expect(policy.status).toBe(201);
  expect((await s.api(`/v1/policies/${policy.body.policy_id}:activate`, { method: 'POST' })).status).toBe(
    200,
  );
});
afterAll(async () => {
  await s?.close();
});

/** A run of its own: a root span (left open) whose trace is declared over native REST. */
async function newRun(ingestKey = s.ingestKey) {
  const tracer = recordingTracer('gated-agent');
  const root = tracer.start('invoke_agent gated');
  const res = await fetch(`${s.otlpUrl}/v1/runs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ingestKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'gated', trace_id: root.spanContext().traceId }),
  });
  expect(res.status).toBe(201);
  const run = Run.parse(await res.json());
  /** Ends a tool span inside the run with these arguments and token, and delivers it over OTLP. */
  const toolSpan = (tool: string, args: unknown, token?: string | null, reuse?: Span) => {
    const span =
      reuse ??
      tracer.start(
        `execute_tool ${tool}`,
        {
          'gen_ai.operation.name': 'execute_tool',
          'gen_ai.tool.name': tool,
          'gen_ai.tool.call.arguments': JSON.stringify(args),
          ...(token ? { 'agentrace.decision.token_id': token } : {}),
        },
        root,
      );
    if (!reuse) span.end();
    return span;
  };
  const deliver = async (spans: Span[]) => {
    const ids = new Set(spans.map((x) => x.spanContext().spanId));
    const finished = tracer.memory.getFinishedSpans().filter((f) => ids.has(f.spanContext().spanId));
    expect(await exportSpans(otlpExporter('proto', s.otlpUrl, ingestKey), finished)).toBe(0);
  };
  return { runId: run.run_id, traceId: root.spanContext().traceId, toolSpan, deliver };
}

const decide = async (runId: string, tool_name: string, args: unknown) => {
  const res = await s.api('/v1/decisions', {
    method: 'POST',
    key: s.ingestKey,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ run_id: runId, tool_name, args }),
  });
  expect(res.status).toBe(200);
  return DecisionResult.parse(res.body);
};
const steps = async (runId: string) => StepList.parse((await s.api(`/v1/runs/${runId}/steps`)).body).data;
const toolSteps = async (runId: string) => (await steps(runId)).filter((x) => x.type === 'tool');
const violations = async (runId: string) =>
  Run.parse((await s.api(`/v1/runs/${runId}`)).body).governance_violations;
const tokenRow = async (id: string) =>
  (await s.db.pool.query('SELECT used_by_step, used_at FROM decision_token WHERE id = $1', [id])).rows[0];

describe('a tool span with a DecisionToken', () => {
  it('uses the token up once; a re-delivery of the same span is not a replay, another span is', async () => {
    const r = await newRun();
    const d = await decide(r.runId, 'search', { q: 'shoes', page: 1 });
    expect(d.decision).toBe('allow');
    // Keys in another order: the canonical hash is the same.
    const first = r.toolSpan('search', { page: 1, q: 'shoes' }, d.token_id);
    await r.deliver([first]);
    await r.deliver([first]);
    const [bound] = await toolSteps(r.runId);
    expect(bound).toMatchObject({ decision_token_id: d.token_id, governance_violation: null });
    expect(await tokenRow(d.token_id!)).toMatchObject({ used_by_step: bound!.step_id });
    expect(await violations(r.runId)).toBe(0);

    await r.deliver([r.toolSpan('search', { page: 1, q: 'shoes' }, d.token_id)]);
    const [, replayed] = await toolSteps(r.runId);
    expect(replayed?.governance_violation).toBe('token_reused');
    expect(await violations(r.runId)).toBe(1);
    expect(await tokenRow(d.token_id!)).toMatchObject({ used_by_step: bound!.step_id });
  });

  it('used twice in one batch binds the first step and flags the second', async () => {
    const r = await newRun();
    const d = await decide(r.runId, 'search', {});
    await r.deliver([r.toolSpan('search', {}, d.token_id), r.toolSpan('search', {}, d.token_id)]);
    expect((await toolSteps(r.runId)).map((x) => x.governance_violation).sort()).toEqual(
      [null, 'token_reused'].sort(),
    );
    expect(await violations(r.runId)).toBe(1);
  });

  it.each([
    ['other arguments', 'search', { q: 'boots' }, 'args_mismatch'],
    ['another tool', 'search_all', { q: 'shoes' }, 'tool_mismatch'],
  ])('for %s is flagged and leaves the token unused', async (_what, tool, args, violation) => {
    const r = await newRun();
    const d = await decide(r.runId, 'search', { q: 'shoes' });
    await r.deliver([r.toolSpan(tool, args, d.token_id)]);
    expect((await toolSteps(r.runId))[0]?.governance_violation).toBe(violation);
    expect(await tokenRow(d.token_id!)).toMatchObject({ used_by_step: null });
    expect(await violations(r.runId)).toBe(1);
  });

  it('of another run is flagged run_mismatch', async () => {
    const a = await newRun();
    const b = await newRun();
    const d = await decide(a.runId, 'search', {});
    await b.deliver([b.toolSpan('search', {}, d.token_id)]);
    expect((await toolSteps(b.runId))[0]?.governance_violation).toBe('run_mismatch');
  });

  it('of another tenant is unknown to this one, and stays unused', async () => {
    const other = await createTenant(s.db.pool, 'other');
    const mine = await newRun();
    const theirs = await newRun(other.ingestKey.key);
    const d = await decide(mine.runId, 'search', {});
    await theirs.deliver([theirs.toolSpan('search', {}, d.token_id)]);
    const { rows } = await s.db.pool.query(
      'SELECT governance_violation FROM step WHERE run_id = $1 AND type = $2',
      [theirs.runId, 'tool'],
    );
    expect(rows).toEqual([{ governance_violation: 'unknown_token' }]);
    expect(await tokenRow(d.token_id!)).toMatchObject({ used_by_step: null });
  });

  it.each([
    ['an unknown token id', randomUUID()],
    ['a token id that is not a UUID', 'dt_forged'],
  ])('naming %s is flagged unknown_token', async (_what, token) => {
    const r = await newRun();
    await r.deliver([r.toolSpan('search', {}, token)]);
    expect((await toolSteps(r.runId))[0]?.governance_violation).toBe('unknown_token');
    expect(await violations(r.runId)).toBe(1);
  });
});

describe('a tool span without a token', () => {
  it('is a violation only when the active policy gates its tool with these arguments', async () => {
    const r = await newRun();
    await r.deliver([
      r.toolSpan('search', { q: 1 }),
      r.toolSpan('send_email', { to: 'a@b.c' }),
      r.toolSpan('delete_user', { id: 1 }),
      r.toolSpan('refund', { amount: 20 }),
      r.toolSpan('refund', { amount: 500 }),
    ]);
    const byName = (await toolSteps(r.runId)).map((x) => [x.tool_name, x.governance_violation]);
    expect(byName).toEqual([
      ['search', null],
      ['send_email', 'missing_token'],
      ['delete_user', 'missing_token'],
      ['refund', null],
      ['refund', 'missing_token'],
    ]);
    expect(await violations(r.runId)).toBe(3);
  });
});

describe('a native REST tool step', () => {
  const post = async (runId: string, step: Record<string, unknown>) => {
    const res = await fetch(`${s.otlpUrl}/v1/runs/${runId}/steps`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.ingestKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        steps: [{ type: 'tool', name: 'refund', schema_version: 1, ts: new Date().toISOString(), ...step }],
      }),
    });
    expect(res.status).toBe(200);
    return AssignedSteps.parse(await res.json());
  };

  it('is bound by decision_token_id and payload.input.arguments, and flagged when they disagree', async () => {
    const r = await newRun();
    const d = await decide(r.runId, 'refund', { amount: 20 });
    await post(r.runId, {
      tool_name: 'refund',
      decision_token_id: d.token_id,
      payload: { input: { arguments: { amount: 20 } } },
    });
    await post(r.runId, {
      tool_name: 'refund',
      decision_token_id: d.token_id,
      payload: { input: { arguments: { amount: 20 } } },
    });
    const other = await decide(r.runId, 'refund', { amount: 30 });
    await post(r.runId, {
      tool_name: 'refund',
      decision_token_id: other.token_id,
      payload: { input: { arguments: { amount: 31 } } },
    });
    expect((await toolSteps(r.runId)).map((x) => x.governance_violation)).toEqual([
      null,
      'token_reused',
      'args_mismatch',
    ]);
    expect(await violations(r.runId)).toBe(2);
  });

  it('posted again with its step_id (a retry) is stored once and is not a replay', async () => {
    const r = await newRun();
    const d = await decide(r.runId, 'refund', { amount: 5 });
    const step = {
      step_id: randomUUID(),
      tool_name: 'refund',
      decision_token_id: d.token_id,
      payload: { input: { arguments: { amount: 5 } } },
    };
    const first = await post(r.runId, step);
    const again = await post(r.runId, step);
    expect(again.assigned[0]?.step_id).toBe(first.assigned[0]?.step_id);
    expect((await toolSteps(r.runId)).map((x) => x.governance_violation)).toEqual([null]);
    expect(await violations(r.runId)).toBe(0);
  });
});

describe('decisions and approvals in the trace', () => {
  it('are policy and approval steps of the run, in seq order with its spans', async () => {
    const r = await newRun();
    const allowed = await decide(r.runId, 'search', {});
    await r.deliver([r.toolSpan('search', {}, allowed.token_id)]);
    const denied = await decide(r.runId, 'delete_user', { id: 1 });
    const pending = await decide(r.runId, 'send_email', { to: 'x@y.z' });
    const approved = await s.api(`/v1/approvals/${pending.approval_id}:approve`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ comment: 'fine' }),
    });
    expect(approved.status).toBe(200);
    const token = Approval.parse(approved.body).token_id;

    const all = await steps(r.runId);
    expect(all.map((x) => x.seq)).toEqual(all.map((_, i) => i + 1));
    expect(all.map((x) => [x.type, x.name])).toEqual([
      ['policy', 'policy search'],
      ['tool', 'execute_tool search'],
      ['policy', 'policy delete_user'],
      ['policy', 'policy send_email'],
      ['approval', 'approval send_email'],
    ]);
    expect(all[0]).toMatchObject({
      decision_token_id: allowed.token_id,
      payload: { output: { decision: 'allow', token_id: allowed.token_id }, input: { tool_name: 'search' } },
    });
    expect(all[2]?.payload.output).toMatchObject({ decision: 'deny', rule_id: 'no-delete', token_id: null });
    expect(all[3]?.payload.output).toMatchObject({ decision: 'pending', approval_id: pending.approval_id });
    expect(all[4]).toMatchObject({
      decision_token_id: token,
      payload: { output: { status: 'approved', comment: 'fine', token_id: token } },
    });
    expect(JSON.stringify(all[3]?.payload)).not.toContain('x@y.z');
    expect(denied.decision).toBe('deny');
    const run = Run.parse((await s.api(`/v1/runs/${r.runId}`)).body);
    expect([run.step_count, run.tool_count, run.governance_violations]).toEqual([5, 1, 0]);
  });
});

describe('the receiver metrics', () => {
  it('count violations by kind', async () => {
    const metrics = await (await fetch(`${s.otlpUrl}/metrics`)).text();
    const count = (kind: string) =>
      Number(
        new RegExp(`agentrace_governance_violations_total\\{violation="${kind}"\\} (\\d+)`).exec(
          metrics,
        )?.[1] ?? 0,
      );
    // What the tests above flagged over OTLP and native REST.
    expect(count('token_reused')).toBe(3);
    expect(count('missing_token')).toBe(3);
    expect(count('unknown_token')).toBe(3);
  });
});
