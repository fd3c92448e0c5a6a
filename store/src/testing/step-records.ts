import { createHash, randomBytes } from 'node:crypto';
import { type InvocationRecord, noRunHints, type StepRecord } from '../ingest-types.ts';

export type StepRecordSpec = Partial<Omit<StepRecord, 'run' | 'invocation'>> & {
  tenantId: string;
  projectId: string;
  runId: string;
  run?: Partial<StepRecord['run']>;
  invocation?: Partial<InvocationRecord> | null;
};

/** A valid StepRecord with fresh span ids, for writer and query tests; override what the test is about. */
export function stepRecord(spec: StepRecordSpec): StepRecord {
  const payloadJson = spec.payloadJson ?? '{"attributes":{}}';
  const { run, invocation, ...rest } = spec;
  return {
    traceId: randomBytes(16),
    spanId: randomBytes(8),
    parentSpanId: null,
    parentStepId: null,
    ts: '2026-01-01T00:00:00.000000Z',
    endTs: '2026-01-01T00:00:01.000000Z',
    durationMs: 1000,
    type: 'other',
    name: 'step',
    status: 'unset',
    errorType: null,
    errorMessage: null,
    errorStack: null,
    model: null,
    requestModel: null,
    provider: null,
    toolName: null,
    agentName: null,
    inputTokens: null,
    outputTokens: null,
    costUsd: null,
    decisionTokenId: null,
    payloadHash: `sha256:${createHash('sha256').update(payloadJson).digest('hex')}`,
    redactionMeta: { paths: [], rules: [] },
    schemaVersion: 1,
    resourceJson: null,
    scopeJson: null,
    ...rest,
    payloadJson,
    run: { ...noRunHints(), ...run },
    invocation:
      invocation === undefined || invocation === null
        ? null
        : {
            kind: 'tool',
            target: 'tool',
            method: null,
            invoker: null,
            taskType: null,
            provider: null,
            model: null,
            toolName: null,
            artifactId: null,
            success: true,
            errorType: null,
            errorMessage: null,
            latencyMs: 1000,
            inputTokens: null,
            outputTokens: null,
            cachedInputTokens: null,
            cacheWriteTokens: null,
            reasoningTokens: null,
            costUsd: null,
            costSource: null,
            ...invocation,
          },
  };
}
