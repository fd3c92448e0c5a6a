import { canonicalJson, sha256Tagged } from '@agentrace/schemas';
import type { Pool } from 'pg';
import { noRunHints, type StepOutcome, type StepRecord } from './ingest-types.ts';
import { writeSteps } from './ingest-writer.ts';

/** A decision (`policy`) or an approval's outcome (`approval`), as a step of the run it gates. */
export interface GovernanceStep {
  tenantId: string;
  projectId: string;
  runId: string;
  /** The run's trace, so that the step sits in it like its spans. */
  traceId: Buffer | null;
  type: 'policy' | 'approval';
  name: string;
  toolName: string;
  decisionTokenId: string | null;
  input: Record<string, unknown>;
  output: Record<string, unknown>;
}

/**
 * Writes a governance step through the ingest writer, so that it takes the run's next seq like any
 * other step (gap-free, under the run lock) and counts in its step_count. Its payload holds ids, hashes
 * and decisions, never the call's arguments (those stay in the approval, and the trace stays free of
 * secrets without the receiver's redaction).
 * @example await writeGovernanceStep(pool, { type: 'policy', name: 'policy send_email', ... })
 */
export async function writeGovernanceStep(pool: Pool, step: GovernanceStep): Promise<StepOutcome> {
  // Microseconds, as the writer's timestamps are (see StepRecord.ts).
  const ts = new Date().toISOString().replace('Z', '000Z');
  const payloadJson = canonicalJson({ input: step.input, output: step.output });
  const record: StepRecord = {
    tenantId: step.tenantId,
    projectId: step.projectId,
    runId: step.runId,
    traceId: step.traceId,
    spanId: null,
    parentSpanId: null,
    parentStepId: null,
    ts,
    endTs: ts,
    durationMs: 0,
    type: step.type,
    name: step.name,
    status: 'ok',
    errorType: null,
    errorMessage: null,
    errorStack: null,
    model: null,
    requestModel: null,
    provider: null,
    toolName: step.toolName,
    agentName: null,
    inputTokens: null,
    outputTokens: null,
    costUsd: null,
    decisionTokenId: step.decisionTokenId,
    payloadJson,
    payloadHash: sha256Tagged(payloadJson),
    redactionMeta: { paths: [], rules: [] },
    schemaVersion: 1,
    resourceJson: null,
    scopeJson: null,
    invocation: null,
    run: noRunHints(),
  };
  const [outcome] = await writeSteps(pool, [record]);
  return outcome!;
}
