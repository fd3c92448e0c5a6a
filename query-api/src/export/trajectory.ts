import type { Run, Step } from '@agentrace/schemas';
import type { ExportStep } from '@agentrace/store';
import type { ChunkWriter } from './chunk-writer.ts';

/** The Step wire shape of an exported step (without what only OTLP needs). */
export function wireStep(step: ExportStep): Step {
  const { parent_span_id: _p, start_time: _s, end_time: _e, resource: _r, scope: _c, ...wire } = step;
  return wire;
}

/**
 * Writes one run as one JSON line: the run's fields and `steps`, its steps in time order with their inputs
 * and outputs (a trajectory, for training or evaluation). Steps are written as they are read, so a run of
 * any size takes constant memory.
 * @example await writeTrajectory(writer, run, streamRunSteps(db, tenantId, run.run_id))
 */
export async function writeTrajectory(
  out: ChunkWriter,
  run: Run,
  steps: AsyncIterable<ExportStep>,
): Promise<void> {
  await out.write(`${JSON.stringify(run).slice(0, -1)},"steps":[`);
  let first = true;
  for await (const step of steps) {
    await out.write(`${first ? '' : ','}${JSON.stringify(wireStep(step))}`);
    first = false;
  }
  await out.write(']}\n');
}
