import { Invocation, listOf, Run } from '@agentrace/schemas';
import type { z } from 'zod';

/** What the demo's examples left on the server. */
export interface DemoSummary {
  runs: number;
  failedRuns: number;
  invocations: number;
  failures: Record<string, number>;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  /** A run worth opening as a timeline (the research agent's). */
  showcaseRunId: string | null;
}

async function getList<T extends z.ZodType>(apiUrl: string, adminKey: string, path: string, item: T) {
  const res = await fetch(apiUrl + path, { headers: { authorization: `Bearer ${adminKey}` } });
  if (!res.ok) throw new Error(`GET ${path} answered ${res.status}: ${await res.text()}`);
  return listOf(item).parse(await res.json()).data;
}

/** Reads back, through the query API, the runs and invocations that started at `since` or later. */
export async function fetchDemoSummary(apiUrl: string, adminKey: string, since: Date): Promise<DemoSummary> {
  const window = `since=${encodeURIComponent(since.toISOString())}&limit=1000`;
  const runs = await getList(apiUrl, adminKey, `/v1/runs?${window}`, Run);
  const invocations = await getList(apiUrl, adminKey, `/v1/invocations?${window}`, Invocation);
  const failures: Record<string, number> = {};
  for (const i of invocations)
    if (!i.success) failures[i.error_type ?? 'error'] = (failures[i.error_type ?? 'error'] ?? 0) + 1;
  return {
    runs: runs.length,
    failedRuns: runs.filter((r) => r.status === 'failed').length,
    invocations: invocations.length,
    failures,
    inputTokens: runs.reduce((sum, r) => sum + r.input_tokens, 0),
    outputTokens: runs.reduce((sum, r) => sum + r.output_tokens, 0),
    costUsd: runs.reduce((sum, r) => sum + (r.cost_usd ?? 0), 0),
    showcaseRunId: (runs.find((r) => r.name === 'research question') ?? runs[0])?.run_id ?? null,
  };
}

export function summaryText(s: DemoSummary): string {
  const failed = Object.values(s.failures).reduce((a, b) => a + b, 0);
  const types = Object.entries(s.failures)
    .sort(([, a], [, b]) => b - a)
    .map(([type, n]) => `${n} ${type}`)
    .join(', ');
  return [
    `What arrived: ${s.runs} runs (${s.failedRuns} failed), ${s.invocations} invocations, ${failed} of them failed` +
      (types ? ` (${types})` : ''),
    `              ${s.inputTokens} input and ${s.outputTokens} output tokens, $${s.costUsd.toFixed(4)} estimated cost`,
  ].join('\n');
}

/** Where to look next: curl commands with the real URL, key and a run id. */
export function nextStepsText(apiUrl: string, adminKey: string | undefined, runId: string | null): string {
  return [
    'Look around (the query API, with the admin key):',
    `  export KEY="Authorization: Bearer ${adminKey ?? '<admin key>'}"`,
    `  curl -H "$KEY" ${apiUrl}/v1/runs`,
    `  curl -H "$KEY" "${apiUrl}/v1/invocations?success=false"`,
    `  curl -H "$KEY" "${apiUrl}/v1/invocations?kind=artifact&artifact_id=service:price-oracle"`,
    `  curl -H "$KEY" ${apiUrl}/v1/runs/${runId ?? '<run_id>'}/timeline`,
  ].join('\n');
}
