import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { ExportTraceServiceRequestType } from '@agentrace/receiver';
import protobuf from 'protobufjs';
import { expect } from 'vitest';

/** An OTLP/JSON request of `count` spans of one new trace, with their hex ids. */
export function otlpRequest(count: number) {
  const traceId = randomBytes(16).toString('hex');
  const spanIds = Array.from({ length: count }, () => randomBytes(8).toString('hex'));
  const spans = spanIds.map((spanId, i) => ({
    traceId,
    spanId,
    name: `span ${i}`,
    startTimeUnixNano: '1700000000000000000',
    endTimeUnixNano: '1700000001000000000',
  }));
  return { traceId, spanIds, body: { resourceSpans: [{ scopeSpans: [{ spans }] }] } };
}

/** The same request in protobuf (ids as bytes, as the protobuf encoder wants them). */
export function otlpProtobuf(body: ReturnType<typeof otlpRequest>['body']): Buffer {
  const shape = {
    resourceSpans: body.resourceSpans.map((rs) => ({
      scopeSpans: rs.scopeSpans.map((ss) => ({
        spans: ss.spans.map((sp) => ({
          ...sp,
          traceId: Buffer.from(sp.traceId, 'hex'),
          spanId: Buffer.from(sp.spanId, 'hex'),
        })),
      })),
    })),
  };
  return Buffer.from(
    ExportTraceServiceRequestType.encode(ExportTraceServiceRequestType.fromObject(shape)).finish(),
  );
}

export const TRACE_EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

/**
 * One OTLP/gRPC export of raw request bytes with the given metadata; resolves with the error (null on
 * success) and the response's initial metadata, which the OTel exporter does not show.
 */
export function grpcExport(
  client: grpc.Client,
  bytes: Buffer,
  headers: Record<string, string>,
): Promise<{ error: grpc.ServiceError | null; metadata: grpc.Metadata | null }> {
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(headers)) metadata.set(key, value);
  let received: grpc.Metadata | null = null;
  return new Promise((resolve) => {
    const call = client.makeUnaryRequest(
      TRACE_EXPORT_PATH,
      (b: Buffer) => b,
      (b: Buffer) => b,
      bytes,
      metadata,
      (error) => resolve({ error: error ?? null, metadata: received }),
    );
    call.on('metadata', (m: grpc.Metadata) => {
      received = m;
    });
  });
}

// google.rpc.Status and RetryInfo, described independently of the receiver's own encoder.
const rpc = protobuf.Root.fromJSON({
  nested: {
    Status: {
      fields: {
        code: { type: 'int32', id: 1 },
        details: { rule: 'repeated', type: 'Any', id: 3 },
      },
    },
    Any: { fields: { type_url: { type: 'string', id: 1 }, value: { type: 'bytes', id: 2 } } },
    RetryInfo: { fields: { retry_delay: { type: 'Duration', id: 1 } } },
    Duration: { fields: { seconds: { type: 'int64', id: 1 } } },
  },
});

/** The retry delay of an UNAVAILABLE status's `grpc-status-details-bin` (asserting it is one). */
export function retryDelaySeconds(error: grpc.ServiceError): number {
  expect(error.code).toBe(grpc.status.UNAVAILABLE);
  const [statusDetails] = error.metadata.get('grpc-status-details-bin') as Buffer[];
  const status = rpc.lookupType('Status').toObject(rpc.lookupType('Status').decode(statusDetails!)) as {
    code: number;
    details: { type_url: string; value: Uint8Array }[];
  };
  expect(status.code).toBe(grpc.status.UNAVAILABLE);
  const info = status.details.find((d) => d.type_url === 'type.googleapis.com/google.rpc.RetryInfo')!;
  const decoded = rpc
    .lookupType('RetryInfo')
    .toObject(rpc.lookupType('RetryInfo').decode(info.value), { longs: Number }) as {
    retry_delay: { seconds: number };
  };
  return decoded.retry_delay.seconds;
}
