import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

/** One request body ready to send, and how many spans it holds. */
export interface Batch {
  gzipped: Buffer;
  spans: number;
}

/** Where clients take their next batch from; never the same batch twice. */
export interface BatchSource {
  next(): Batch;
}

export interface PhaseResult {
  /** From the phase's start to the last acknowledgement. */
  seconds: number;
  requests: number;
  /** Spans in 200 responses, less any `partialSuccess.rejectedSpans`. */
  acknowledgedSpans: number;
  rejectedSpans: number;
  /** 503 (overloaded) answers; the client waited Retry-After and went on, as an exporter does. */
  refused: number;
  /** Any other answer or a transport error. */
  failed: number;
  failures: string[];
  /** Acknowledgement latency of each 200, in ms. */
  latenciesMs: Float64Array;
}

export interface Response {
  status: number;
  body: Buffer;
  retryAfter: number;
}

/** POSTs one gzipped OTLP protobuf body; resolves with the status, body and Retry-After. */
export function post(agent: http.Agent, url: URL, key: string, body: Buffer): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/x-protobuf',
          'content-encoding': 'gzip',
          'content-length': body.length,
          authorization: `Bearer ${key}`,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks),
            retryAfter: Number(res.headers['retry-after'] ?? 1) || 1,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A protobuf varint at `at`: its value and the offset after it. */
function varint(bytes: Buffer, at: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let i = at; i < bytes.length; i++) {
    const b = bytes[i]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return [value, i + 1];
    scale *= 128;
  }
  throw new Error('truncated varint');
}

/**
 * `partialSuccess.rejectedSpans` of an `ExportTraceServiceResponse` (field 1, a message whose field 1 is
 * an int64), read by hand: the receiver does not export its response type.
 */
export function rejectedIn(body: Buffer): number {
  let at = 0;
  while (at < body.length) {
    const [tag, afterTag] = varint(body, at);
    if (tag === (1 << 3) + 2) {
      const [length, start] = varint(body, afterTag);
      for (let i = start; i < start + length; ) {
        const [innerTag, afterInner] = varint(body, i);
        if (innerTag === 1 << 3) return varint(body, afterInner)[0];
        if ((innerTag & 7) !== 2) throw new Error(`unexpected wire type in partialSuccess: ${innerTag & 7}`);
        const [skip, from] = varint(body, afterInner);
        i = from + skip;
      }
      return 0;
    }
    if ((tag & 7) !== 2) throw new Error(`unexpected wire type in ExportTraceServiceResponse: ${tag & 7}`);
    const [skip, from] = varint(body, afterTag);
    at = from + skip;
  }
  return 0;
}

/**
 * `clients` concurrent exporters, each sending its next batch as soon as the previous one is acknowledged,
 * until `seconds` have passed; resolves once every request in flight has been answered.
 */
export async function runLoad(options: {
  otlpUrl: string;
  ingestKey: string;
  clients: number;
  seconds: number;
  source: BatchSource;
}): Promise<PhaseResult> {
  const url = new URL(`${options.otlpUrl}/v1/traces`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.clients });
  const latencies: number[] = [];
  const result: Omit<PhaseResult, 'latenciesMs' | 'seconds'> = {
    requests: 0,
    acknowledgedSpans: 0,
    rejectedSpans: 0,
    refused: 0,
    failed: 0,
    failures: [],
  };
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  let lastAck = started;

  const client = async () => {
    while (performance.now() < deadline) {
      const batch = options.source.next();
      const sent = performance.now();
      let res: Response;
      try {
        res = await post(agent, url, options.ingestKey, batch.gzipped);
      } catch (err) {
        result.failed++;
        if (result.failures.length < 5) result.failures.push(String(err));
        await sleep(100);
        continue;
      }
      const now = performance.now();
      result.requests++;
      if (res.status === 200) {
        const rejected = rejectedIn(res.body);
        result.rejectedSpans += rejected;
        result.acknowledgedSpans += batch.spans - rejected;
        latencies.push(now - sent);
        lastAck = now;
      } else if (res.status === 503 || res.status === 429) {
        result.refused++;
        await sleep(res.retryAfter * 1000);
      } else {
        result.failed++;
        if (result.failures.length < 5)
          result.failures.push(`HTTP ${res.status}: ${res.body.toString('utf8').slice(0, 200)}`);
        if (result.failed > 20) throw new Error(`too many failed requests: ${result.failures.join('; ')}`);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.clients }, client));
  } finally {
    agent.destroy();
  }
  return { ...result, seconds: (lastAck - started) / 1000, latenciesMs: Float64Array.from(latencies) };
}

/** The q-quantile (0..1) of the values, nearest-rank. */
export function quantile(values: Float64Array, q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}
