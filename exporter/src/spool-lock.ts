import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const LOCK_FILE = 'spool.lock';

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Takes the spool directory for this process, so two processes never append to the same segments. A lock
 * left by a process that died is taken over. Throws when a live process holds it.
 * @returns a function that releases the lock.
 */
export function lockSpoolDir(dir: string): () => void {
  const file = path.join(dir, LOCK_FILE);
  try {
    writeFileSync(file, String(process.pid), { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const holder = Number(readFileSync(file, 'utf8'));
    if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) {
      throw new Error(
        `the spool ${dir} is in use by process ${holder}; give each process its own AGENTRACE_SPOOL_DIR`,
      );
    }
    writeFileSync(file, String(process.pid));
  }
  return () => {
    try {
      unlinkSync(file);
    } catch {
      // Already gone: nothing to release.
    }
  };
}
