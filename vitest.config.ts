import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['*/src/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    // One real PostgreSQL for the whole run (embedded, or DATABASE_URL); a fresh database per test file.
    globalSetup: ['./store/src/testing/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
