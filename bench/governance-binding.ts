/**
 * What the governance binding costs the ingest writer: 512-step batches (a quarter of them tool steps)
 * written with writeSteps in a project without an active policy (nothing to check), with one (the tool
 * steps without a token are evaluated against it), and with every tool step naming a fresh token (looked
 * up, locked and used up). `npx tsx bench/governance-binding.ts` (BENCH_BATCHES, default 30).
 */
import { randomUUID } from 'node:crypto';
import { argsHash } from '@agentrace/schemas';
import {
  activatePolicy,
  createPolicy,
  createTenant,
  inTransaction,
  type Pool,
  writeSteps,
} from '@agentrace/store';
import { stepRecord } from '@agentrace/store/testing';
import { openBenchDatabase, quantile } from './bench-database.ts';

const BATCHES = Number(process.env.BENCH_BATCHES ?? 30);
const STEPS = 512;
const RUNS_PER_BATCH = 16;

type Mode = 'no policy' | 'policy, no tokens' | 'policy, tokens';

/** One batch: RUNS_PER_BATCH runs of the project, every fourth step a tool call (with a token when asked). */
async function batch(pool: Pool, tenantId: string, projectId: string, withTokens: boolean) {
  const runs = Array.from({ length: RUNS_PER_BATCH }, () => randomUUID());
  const records = [];
  const tokens: unknown[][] = [];
  for (let i = 0; i < STEPS; i++) {
    const runId = runs[i % RUNS_PER_BATCH]!;
    const tool = i % 4 === 0;
    const args = { query: `q${i}`, page: i };
    const tokenId = tool && withTokens ? randomUUID() : null;
    if (tokenId) tokens.push([tenantId, tokenId, projectId, runId, 'search', argsHash(args)]);
    records.push(
      stepRecord({
        tenantId,
        projectId,
        runId,
        type: tool ? 'tool' : 'llm',
        name: tool ? 'execute_tool search' : 'chat',
        toolName: tool ? 'search' : null,
        decisionTokenId: tokenId,
        toolCall: tool ? { args, argsSha256: argsHash(args) } : undefined,
      }),
    );
  }
  if (tokens.length > 0) {
    await pool.query(
      `INSERT INTO decision_token (tenant_id, id, project_id, run_id, tool_name, args_sha256, expires_at)
       SELECT t, i, p, r, n, h, now() + interval '5 minutes'
       FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[]) AS x(t, i, p, r, n, h)`,
      [0, 1, 2, 3, 4, 5].map((c) => tokens.map((t) => t[c])),
    );
  }
  return records;
}

/** A tenant whose project has the mode's policy (or none). */
async function tenantFor(pool: Pool, mode: Mode) {
  const tenant = await createTenant(pool, `bench ${mode}`);
  if (mode !== 'no policy') {
    const document = {
      default: 'allow' as const,
      rules: [
        { id: 'mail', tool: 'send_email', args: [], tags: {}, effect: 'require_approval' as const },
        {
          id: 'big',
          tool: 'search',
          args: [{ path: '$.page', op: 'gt' as const, value: 1e9 }],
          tags: {},
          effect: 'block' as const,
        },
      ],
    };
    const policy = await inTransaction(pool, (tx) =>
      createPolicy(tx, tenant.tenantId, tenant.projectId, document, null),
    );
    await inTransaction(pool, (tx) => activatePolicy(tx, tenant.tenantId, policy!.policy_id, null));
  }
  return tenant;
}

const db = await openBenchDatabase(4);
try {
  const modes: Mode[] = ['no policy', 'policy, no tokens', 'policy, tokens'];
  const tenants = await Promise.all(modes.map((mode) => tenantFor(db.pool, mode)));
  const times: number[][] = modes.map(() => []);
  // Round-robin over the modes, so that the database's warm-up and others' load hit all of them alike.
  for (let b = 0; b < BATCHES + 3; b++) {
    for (const [m, mode] of modes.entries()) {
      const records = await batch(
        db.pool,
        tenants[m]!.tenantId,
        tenants[m]!.projectId,
        mode === 'policy, tokens',
      );
      const start = performance.now();
      const outcomes = await writeSteps(db.pool, records);
      if (b >= 3) times[m]!.push(performance.now() - start);
      if (outcomes.some((o) => o.governanceViolation)) throw new Error(`${mode}: unexpected violation`);
    }
  }
  const results: Record<string, unknown> = {
    steps_per_batch: STEPS,
    tool_steps_per_batch: STEPS / 4,
    batches: BATCHES,
  };
  for (const [m, mode] of modes.entries()) {
    results[mode] = {
      p50_ms: +quantile(times[m]!, 0.5).toFixed(1),
      p95_ms: +quantile(times[m]!, 0.95).toFixed(1),
    };
  }
  console.log(JSON.stringify(results));
} finally {
  await db.close();
}
