import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CostRow } from '@agentrace/schemas';
import { createTenant, type NewTenant, writeSteps } from '@agentrace/store';
import { createTestDatabase, stepRecord, type TestDatabase } from '@agentrace/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { COST_FLAGS, costCommand } from './cost.ts';
import { runCommand } from './testing/run-command.ts';

let db: TestDatabase;
let t: NewTenant;
const dir = mkdtempSync(path.join(tmpdir(), 'agentrace-cost-'));
const runId = randomUUID();

beforeAll(async () => {
  db = await createTestDatabase();
  t = await createTenant(db.pool, 'cost');
  const ids = { tenantId: t.tenantId, projectId: t.projectId, runId, traceId: randomBytes(16) };
  const call = (
    ts: string,
    model: string,
    costUsd: number | null,
    costSource: 'reported' | 'estimated' | null,
  ) =>
    stepRecord({
      ...ids,
      ts,
      type: 'llm',
      costUsd,
      invocation: {
        kind: 'model',
        target: model,
        model,
        invoker: 'planner',
        inputTokens: 1_000_000,
        outputTokens: 100_000,
        costUsd,
        costSource,
      },
    });
  // Stored with a stale price ($1 each): o3 before and after its price cut, a reported cost, an unknown model.
  await writeSteps(db.pool, [
    call('2025-05-01T10:00:00.000000Z', 'o3', 1, 'estimated'),
    call('2025-07-01T10:00:00.000000Z', 'o3-2025-04-16', 1, 'estimated'),
    call('2025-07-01T11:00:00.000000Z', 'claude-sonnet-4-5', 0.5, 'reported'),
    call('2025-07-01T12:00:00.000000Z', 'my-finetune', null, null),
  ]);
});
afterAll(async () => {
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `agentrace cost ...` as main.ts would; returns its exit code and output. */
const cli = (argv: string[], env: Record<string, string> = {}) =>
  runCommand(costCommand, argv, COST_FLAGS, { DATABASE_URL: db.url, ...env });

const stored = async () =>
  (
    await db.pool.query<{
      model: string;
      cost_usd: number | null;
      cost_source: string | null;
      step_cost: number | null;
    }>(
      `SELECT i.model, i.cost_usd, i.cost_source, s.cost_usd AS step_cost FROM invocation i
       JOIN step s ON s.tenant_id = i.tenant_id AND s.id = i.step_id ORDER BY i.started_at`,
    )
  ).rows;
const runCost = async () =>
  (await db.pool.query<{ cost_usd: number }>('SELECT cost_usd FROM run WHERE id = $1', [runId])).rows[0]!
    .cost_usd;

describe('agentrace cost recompute', () => {
  it('re-prices estimated calls with the prices in effect on their day, keeps reported costs, and re-totals runs', async () => {
    const res = await cli(['cost', 'recompute', '--since', '2025-01-01T00:00:00Z', '--json']);
    expect(res).toMatchObject({ code: 0, err: '' });
    expect(JSON.parse(res.out)).toEqual({ priced_calls: 3, changed_calls: 2, changed_runs: 1 });
    const o3Before = 1 * 10 + 0.1 * 40; // $10 in / $40 out per 1M until 2025-06-10
    const o3After = 1 * 2 + 0.1 * 8; // $2 / $8 from then on
    expect(await stored()).toEqual([
      {
        model: 'o3',
        cost_usd: expect.closeTo(o3Before, 9),
        cost_source: 'estimated',
        step_cost: expect.closeTo(o3Before, 9),
      },
      {
        model: 'o3-2025-04-16',
        cost_usd: expect.closeTo(o3After, 9),
        cost_source: 'estimated',
        step_cost: expect.closeTo(o3After, 9),
      },
      { model: 'claude-sonnet-4-5', cost_usd: 0.5, cost_source: 'reported', step_cost: 0.5 },
      { model: 'my-finetune', cost_usd: null, cost_source: null, step_cost: null },
    ]);
    expect(await runCost()).toBeCloseTo(o3Before + o3After + 0.5, 9);
  });

  it('applies a pricing file, only to calls in the range', async () => {
    const file = path.join(dir, 'prices.json');
    writeFileSync(
      file,
      JSON.stringify({ models: [{ provider: 'self', model: 'my-finetune', input: 1, output: 10 }] }),
    );
    const res = await cli(['cost', 'recompute', '--since', '2025-07-01T12:00:00Z'], {
      AGENTRACE_PRICING_FILE: file,
    });
    expect(res).toMatchObject({ code: 0, out: 're-priced 1 calls: 1 changed, in 1 runs\n' });
    expect((await stored())[3]).toMatchObject({ cost_usd: 2, cost_source: 'estimated', step_cost: 2 });
    expect(await runCost()).toBeCloseTo(14 + 2.8 + 0.5 + 2, 9);
  });

  it('needs --since', async () => {
    expect((await cli(['cost', 'recompute'])).code).toBe(2);
  });
});

describe('agentrace cost', () => {
  it('prints JSON with --json', async () => {
    const res = await cli(['cost', '--group-by', 'model', '--json']);
    const rows = z.object({ data: z.array(CostRow) }).parse(JSON.parse(res.out)).data;
    expect(rows.map((r) => r.key)).toEqual(['o3', 'o3-2025-04-16', 'my-finetune', 'claude-sonnet-4-5']);
  });

  it('prints a table by day by default', async () => {
    const res = await cli(['cost', '--since', '2025-07-01T00:00:00Z']);
    expect(res.out.split('\n')).toEqual([
      'day         cost_usd  input_tokens  output_tokens  invocations  unpriced',
      '2025-07-01       5.3       3000000         300000            3         0',
      '',
    ]);
  });

  it('asks for --tenant when there are several', async () => {
    await createTenant(db.pool, 'second');
    await expect(cli(['cost'])).rejects.toThrow(/--tenant/);
    expect((await cli(['cost', '--tenant', t.tenantId, '--json'])).code).toBe(0);
  });

  it.each([
    ['--group-by', 'tool'],
    ['--since', 'yesterday'],
  ])('refuses %s %s', async (flag, value) => {
    expect((await cli(['cost', flag, value])).code).toBe(2);
  });
});
