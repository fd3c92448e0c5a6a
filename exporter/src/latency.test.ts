import { createServer } from 'node:net';
import { run, step, traceTool } from '@agentrace/instrumentation';
import { afterAll, describe, expect, it } from 'vitest';
import { startAgentrace } from './start-agentrace.ts';
import { removeTempDirs, tempDir } from './testing/spool-fixtures.ts';

afterAll(removeTempDirs);

/** A loopback port with nothing listening on it: a receiver that is down. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const ITERATIONS = 60;

/** The agent's own work for one iteration: waiting on I/O, then some computing. */
async function work(i: number): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 3));
  let sum = i;
  for (let j = 0; j < 50_000; j++) sum = (sum + j * j) % 1_000_003;
  return sum;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

describe('tracing with the receiver down', () => {
  it("keeps the traced function's latency within a generous bound of its untraced latency", async () => {
    const untracedRun = async () => {
      for (let i = 0; i < ITERATIONS; i++) await work(i);
    };
    const tracedRun = async () => {
      for (let i = 0; i < ITERATIONS; i++) {
        await run(`latency ${i}`, { agent: 'timer' }, () =>
          step('chain', 'iteration', () => traceTool('compute', () => work(i), { args: { i } })),
        );
      }
    };
    const agentrace = startAgentrace({
      endpoint: `http://127.0.0.1:${await closedPort()}`,
      apiKey: 'ingest-key-of-a-receiver-that-is-down',
      spoolDir: tempDir(),
      // Batches fail and are spooled while the agent works, not after.
      batchDelayMs: 10,
      exportTimeoutMs: 200,
    });
    try {
      await untracedRun(); // warm-up of both paths
      await tracedRun();
      const untraced = await timed(untracedRun);
      const traced = await timed(tracedRun);
      await agentrace.forceFlush();
      // The exports really failed during the measurement and went to the spool.
      expect(agentrace.stats()!.pendingSpans).toBeGreaterThanOrEqual(2 * 3 * ITERATIONS);
      expect(traced).toBeLessThan(untraced * 2 + 100);
    } finally {
      await agentrace.shutdown();
    }
  });
});
