import type { ExportStep } from '@agentrace/store';
import type { ChunkWriter } from './chunk-writer.ts';
import { keyValues, otlpSpan } from './otlp-span.ts';

/**
 * Writes a run's steps as one OTLP/JSON ExportTraceServiceRequest, streamed: consecutive steps of one
 * resource and scope share a ResourceSpans (OTLP allows a resource to repeat), so nothing is held but the
 * current step.
 * @example await writeOtlpRequest(writer, run.trace_id, streamRunSteps(db, tenantId, run.run_id))
 */
export async function writeOtlpRequest(
  out: ChunkWriter,
  runTraceId: string | null,
  steps: AsyncIterable<ExportStep>,
) {
  await out.write('{"resourceSpans":[');
  let group: string | null = null;
  for await (const step of steps) {
    const key = JSON.stringify([step.resource, step.scope]);
    if (key !== group) {
      const resource = { attributes: keyValues(step.resource) };
      const scope = {
        name: step.scope?.name ?? '',
        version: step.scope?.version,
        attributes: keyValues(step.scope?.attributes),
      };
      await out.write(
        `${group === null ? '' : ']}]},'}{"resource":${JSON.stringify(resource)},"scopeSpans":[{"scope":${JSON.stringify(scope)},"spans":[`,
      );
      group = key;
    } else {
      await out.write(',');
    }
    await out.write(JSON.stringify(otlpSpan(step, runTraceId)));
  }
  await out.write(group === null ? ']}' : ']}]}]}');
}
