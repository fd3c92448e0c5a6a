import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../embedded.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A connection string to a database on the test server; test files create their own beside it. */
    adminDatabaseUrl: string;
  }
}

/** Starts the embedded PostgreSQL once per test run, unless DATABASE_URL names a server to use. */
export default async function setup(project: TestProject) {
  if (process.env.DATABASE_URL) {
    project.provide('adminDatabaseUrl', process.env.DATABASE_URL);
    return;
  }
  const dataDir = await mkdtemp(path.join(tmpdir(), 'agentrace-test-'));
  const db = await startEmbeddedPostgres({ dataDir, database: 'postgres' });
  project.provide('adminDatabaseUrl', db.url);
  return async () => {
    await db.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}
