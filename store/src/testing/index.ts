export { createTestDatabase, type TestDatabase } from './test-database.ts';
export { type StepRecordSpec, stepRecord } from './step-records.ts';
export { writeAgentRuns } from './agent-runs.ts';
