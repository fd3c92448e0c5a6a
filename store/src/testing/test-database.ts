import { inject } from 'vitest';
import { createScratchDatabase, type ScratchDatabase } from '../scratch-database.ts';

export type TestDatabase = ScratchDatabase;

/** A fresh, migrated database on the test run's PostgreSQL, for one test file. */
export function createTestDatabase(): Promise<TestDatabase> {
  return createScratchDatabase(inject('adminDatabaseUrl'), 'agentrace_test');
}
