/**
 * What redaction costs on the ingest path: normalizeRequest of realistic 512-span batches (the ingest
 * benchmark's agent runs, decoded once) with the default rules, and with no rules at all.
 * `npx tsx bench/redaction-cost.ts` (BENCH_BATCHES, default 40; BENCH_ROUNDS, default 11).
 */
import { DEFAULT_REDACTION_RULES, decodeProtobuf, normalizeRequest, Pricing, type RedactorRules } from '@agentrace/receiver';
import { AgentSpanFactory, encodeRequest } from './span-factory.ts';

const BATCHES = Number(process.env.BENCH_BATCHES ?? 40);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 11);
const NO_RULES: RedactorRules = { keys: [], values: [], prefilters: [] };

const factory = new AgentSpanFactory(512);
const batches = Array.from({ length: BATCHES }, () => decodeProtobuf(Buffer.from(encodeRequest(factory.nextRequest()))));
const pricing = Pricing.load();
const ctx = (redaction: RedactorRules) => ({ tenantId: 't', projectId: 'p', pricing, redaction });

/** CPU milliseconds (of this process: others' load on the machine does not count) per 512-span batch. */
function pass(redaction: RedactorRules): number {
  const start = process.cpuUsage();
  for (const batch of batches) normalizeRequest(ctx(redaction), batch);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / batches.length;
}
const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// Warm up, then alternate so that load from elsewhere on the machine hits both alike.
pass(DEFAULT_REDACTION_RULES);
pass(NO_RULES);
const a: number[] = [];
const b: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  a.push(pass(NO_RULES));
  b.push(pass(DEFAULT_REDACTION_RULES));
}
const without = median(a);
const withRules = median(b);
const redacted = batches.flatMap((b) => normalizeRequest(ctx(DEFAULT_REDACTION_RULES), b).records).filter(
  (r) => (r.redactionMeta as { paths: string[] }).paths.length > 0,
).length;
console.log(
  JSON.stringify({
    spans_per_batch: 512,
    batches: BATCHES,
    ms_per_batch_without_redaction: +without.toFixed(2),
    ms_per_batch_with_redaction: +withRules.toFixed(2),
    redaction_ms_per_batch: +(withRules - without).toFixed(2),
    redaction_share: +((withRules - without) / withRules).toFixed(3),
    us_per_span_redaction: +(((withRules - without) * 1000) / 512).toFixed(2),
    spans_with_a_redaction: redacted,
  }),
);
