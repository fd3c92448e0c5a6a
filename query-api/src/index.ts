export { HttpError } from '@agentrace/schemas';
export { diffRuns, type RunWithSteps } from './diff/diff-runs.ts';
export { ChunkWriter } from './export/chunk-writer.ts';
export { writeTrajectory } from './export/trajectory.ts';
export { createQueryApp, type QueryAppDeps } from './query-app.ts';
export { StreamHub, type StreamHubOptions } from './stream/stream-hub.ts';
