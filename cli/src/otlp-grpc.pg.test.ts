import { listOf, Run } from '@agentrace/schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportResult, exportSpans, otlpExporter, otlpGrpcExporter, recordAgentRun, recordingTracer } from './testing/otel-client.ts';
import { startTestServer, type TestServer } from './testing/test-server.ts';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s?.close();
});

const runsOfTrace = async (traceId: string) => listOf(Run).parse((await s.api(`/v1/runs?trace_id=${traceId}`)).body).data;

describe('OTLP/gRPC with the real @opentelemetry/exporter-trace-otlp-grpc', () => {
  it.each(['none', 'gzip'] as const)('stores an agent run sent with compression %s', async (compression) => {
    const spans = recordAgentRun(recordingTracer(), `grpc-${compression}`);
    expect(await exportSpans(otlpGrpcExporter(s.otlpGrpcAddress, s.ingestKey, compression), spans)).toBe(0);
    const runs = await runsOfTrace(spans[0]!.spanContext().traceId);
    expect(runs).toEqual([
      expect.objectContaining({ status: 'succeeded', step_count: 5, tool_count: 2, error_count: 1, input_tokens: 150, session_id: `grpc-${compression}` }),
    ]);
  });

  it('shares one idempotent store with OTLP/HTTP: a span sent over both is stored once', async () => {
    const spans = recordAgentRun(recordingTracer());
    expect(await exportSpans(otlpGrpcExporter(s.otlpGrpcAddress, s.ingestKey), spans)).toBe(0);
    expect(await exportSpans(otlpExporter('proto', s.otlpUrl, s.ingestKey), spans)).toBe(0);
    expect((await runsOfTrace(spans[0]!.spanContext().traceId))[0]).toMatchObject({ step_count: 5, input_tokens: 150 });
  });

  it.each([
    ['an unknown key with UNAUTHENTICATED', 'art_unknown-key-000000000000', 16],
    ['a user key with PERMISSION_DENIED', 'ADMIN', 7],
  ])('refuses %s and stores nothing', async (_label, key, grpcCode) => {
    const spans = recordAgentRun(recordingTracer());
    const exporter = otlpGrpcExporter(s.otlpGrpcAddress, key === 'ADMIN' ? s.adminKey : key);
    const result = await exportResult(exporter, spans);
    expect(result.code).toBe(1);
    expect((result.error as { code?: number } | undefined)?.code).toBe(grpcCode);
    expect(await runsOfTrace(spans[0]!.spanContext().traceId)).toEqual([]);
  });
});
