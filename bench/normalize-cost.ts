/**
 * The receiver's CPU per span before the writer: protobuf decode and normalization (mapping, redaction,
 * canonical JSON, hash, price), timed apart on realistic 512-span requests (the ingest benchmark's agent
 * runs). `npm run bench:normalize` (BENCH_REQUESTS, default 60; BENCH_ROUNDS, default 7).
 */
import { DEFAULT_REDACTION_RULES, decodeProtobuf, normalizeRequest, Pricing } from '@agentrace/receiver';
import { AgentSpanFactory, encodeRequest } from './span-factory.ts';

const SPANS_PER_REQUEST = 512;
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 60);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);

const factory = new AgentSpanFactory(SPANS_PER_REQUEST);
const bodies = Array.from({ length: REQUESTS }, () => Buffer.from(encodeRequest(factory.nextRequest())));
const decoded = bodies.map(decodeProtobuf);
const ctx = { tenantId: 't', projectId: 'p', pricing: Pricing.load(), redaction: DEFAULT_REDACTION_RULES };
const spans = REQUESTS * SPANS_PER_REQUEST;

/** CPU microseconds per span of this process (others' load on the machine does not count). */
function usPerSpan(work: () => void): number {
  const start = process.cpuUsage();
  work();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / spans;
}
const decodeAll = () => {
  for (const body of bodies) decodeProtobuf(body);
};
const normalizeAll = () => {
  for (const request of decoded) normalizeRequest(ctx, request);
};
const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// Warm up, then alternate so that load from elsewhere on the machine hits both alike.
decodeAll();
normalizeAll();
const decode: number[] = [];
const normalize: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  decode.push(usPerSpan(decodeAll));
  normalize.push(usPerSpan(normalizeAll));
}
console.log(
  JSON.stringify({
    spans_per_request: SPANS_PER_REQUEST,
    requests: REQUESTS,
    decode_us_per_span: +median(decode).toFixed(1),
    normalize_us_per_span: +median(normalize).toFixed(1),
  }),
);
