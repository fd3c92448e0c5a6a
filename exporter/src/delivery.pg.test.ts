import { listOf, Run } from '@agentrace/schemas';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { restartTestServer, startTestServer } from '../../cli/src/testing/test-server.ts';
import { type Agentrace, startAgentrace } from './start-agentrace.ts';
import {
  agentRun,
  answeringServer,
  captureDiag,
  copySegments,
  eventually,
  expectRunThroughApi,
  expectStoredOnce,
  removeTempDirs,
  SPANS_PER_RUN,
  segmentFiles,
  tempDir,
} from './testing/spool-fixtures.ts';

// Short, so that a request to a receiver that does not answer gives up quickly.
const FAST = { exportTimeoutMs: 500, batchDelayMs: 20, serviceName: 'delivery-test' };

const started: Agentrace[] = [];
function start(options: Parameters<typeof startAgentrace>[0]): Agentrace {
  const agentrace = startAgentrace(options);
  started.push(agentrace);
  return agentrace;
}
afterEach(async () => {
  for (const agentrace of started.splice(0)) await agentrace.shutdown();
});
afterAll(removeTempDirs);

describe('the exporter with the receiver down, then back', () => {
  it('spools the spans to disk while it is down and stores each exactly once when it is back', async () => {
    const first = await startTestServer();
    await first.server.close();
    const spoolDir = tempDir();
    const agentrace = start({ ...FAST, endpoint: first.otlpUrl, apiKey: first.ingestKey, spoolDir });

    const traceIds: string[] = [];
    for (const label of ['a', 'b', 'c']) {
      traceIds.push(await agentRun(label));
      await agentrace.forceFlush();
    }
    expect(agentrace.stats()).toMatchObject({
      pendingSpans: 3 * SPANS_PER_RUN,
      droppedSpans: 0,
      rejectedSpans: 0,
      spoolDir,
    });
    expect(segmentFiles(spoolDir).length).toBeGreaterThan(0);
    const sameRequestsAgain = copySegments(spoolDir);

    const second = await restartTestServer(first);
    try {
      await agentrace.forceFlush();
      expect(agentrace.stats()).toMatchObject({ pendingSpans: 0, pendingBytes: 0 });
      expect(segmentFiles(spoolDir)).toEqual([]);
      await expectStoredOnce(second, traceIds);
      await expectRunThroughApi(second, traceIds[0]!);

      // The same requests replayed once more (a crash after sending, before the spool knew) change nothing.
      await agentrace.shutdown();
      const again = start({
        ...FAST,
        endpoint: second.otlpUrl,
        apiKey: second.ingestKey,
        spoolDir: sameRequestsAgain,
      });
      await again.forceFlush();
      expect(again.stats()).toMatchObject({ pendingSpans: 0, rejectedSpans: 0 });
      await expectStoredOnce(second, traceIds);

      // Once the spool is empty, new spans go straight to the receiver again.
      const live = await agentRun('live');
      await again.forceFlush();
      await expectStoredOnce(second, [...traceIds, live]);
    } finally {
      await second.close();
    }
  });

  it('leaves what it could not deliver on disk at shutdown, for the next process to replay on its own', async () => {
    const first = await startTestServer();
    await first.server.close();
    const spoolDir = tempDir();
    const dying = start({ ...FAST, endpoint: first.otlpUrl, apiKey: first.ingestKey, spoolDir });
    const traceIds = [await agentRun('x'), await agentRun('y')];
    await dying.shutdown();
    expect(segmentFiles(spoolDir).length).toBeGreaterThan(0);

    const second = await restartTestServer(first);
    try {
      const next = start({ ...FAST, endpoint: second.otlpUrl, apiKey: second.ingestKey, spoolDir });
      await eventually(() => expectStoredOnce(second, traceIds));
      await eventually(async () => expect(segmentFiles(spoolDir)).toEqual([]));
      expect(next.stats()).toMatchObject({ pendingSpans: 0 });
    } finally {
      await second.close();
    }
  });

  it('spools every span of a busy agent, with the default timeouts: none is lost in the batch queue', async () => {
    const first = await startTestServer();
    await first.server.close();
    const agentrace = start({
      endpoint: first.otlpUrl,
      apiKey: first.ingestKey,
      spoolDir: tempDir(),
      maxQueueSpans: 256,
    });
    const traceIds: string[] = [];
    for (let i = 0; i < 200; i++) {
      traceIds.push(await agentRun(`busy ${i}`));
      await new Promise((resolve) => setImmediate(resolve)); // an agent's own I/O turn
    }
    await agentrace.forceFlush();
    expect(agentrace.stats()).toMatchObject({ pendingSpans: 200 * SPANS_PER_RUN, droppedSpans: 0 });

    const second = await restartTestServer(first);
    try {
      await agentrace.forceFlush();
      await expectStoredOnce(second, traceIds);
    } finally {
      await second.close();
    }
  });

  it('keeps the spool under its bound by dropping the oldest runs, counted and warned about', async () => {
    const first = await startTestServer();
    await first.server.close();
    const diagnostics = captureDiag();
    try {
      // One run's request, measured, sets a bound of about four of them.
      const probe = start({ ...FAST, endpoint: first.otlpUrl, apiKey: first.ingestKey, spoolDir: tempDir() });
      await agentRun('r00');
      await probe.forceFlush();
      const oneRun = probe.stats()!.pendingBytes;
      await probe.shutdown();

      const spoolMaxBytes = Math.floor(4.5 * oneRun);
      const agentrace = start({
        ...FAST,
        endpoint: first.otlpUrl,
        apiKey: first.ingestKey,
        spoolDir: tempDir(),
        spoolMaxBytes,
      });
      const traceIds: string[] = [];
      for (let i = 1; i <= 10; i++) {
        traceIds.push(await agentRun(`r${String(i).padStart(2, '0')}`));
        await agentrace.forceFlush();
        expect(agentrace.stats()!.pendingBytes).toBeLessThanOrEqual(spoolMaxBytes);
      }
      const { pendingSpans, droppedSpans } = agentrace.stats()!;
      expect(droppedSpans).toBeGreaterThan(0);
      expect(pendingSpans + droppedSpans).toBe(10 * SPANS_PER_RUN);
      expect(diagnostics.messages.some((m) => m.includes(`(${droppedSpans} dropped so far)`))).toBe(true);

      const second = await restartTestServer(first);
      try {
        await agentrace.forceFlush();
        const kept = traceIds.slice(10 - pendingSpans / SPANS_PER_RUN);
        await expectStoredOnce(second, kept);
        for (const dropped of traceIds.slice(0, 10 - kept.length)) {
          expect(listOf(Run).parse((await second.api(`/v1/runs?trace_id=${dropped}`)).body).data).toEqual([]);
        }
      } finally {
        await second.close();
      }
    } finally {
      diagnostics.stop();
    }
  });
});

describe('the exporter with the spool off', () => {
  it('delivers through the official OTLP exporter', async () => {
    const receiver = await startTestServer();
    try {
      const agentrace = start({
        ...FAST,
        endpoint: receiver.otlpUrl,
        apiKey: receiver.ingestKey,
        spoolMaxBytes: 0,
      });
      const traceId = await agentRun('no spool');
      await agentrace.forceFlush();
      expect(agentrace.stats()).toBeNull();
      await expectStoredOnce(receiver, [traceId]);
    } finally {
      await receiver.close();
    }
  });
});

describe('the exporter against a receiver that answers errors', () => {
  it('spools while the receiver keeps answering 503, and replays once a real receiver answers', async () => {
    const keys = {
      AGENTRACE_INGEST_KEY: 'ingest-key-for-503-test',
      AGENTRACE_ADMIN_KEY: 'admin-key-for-503-test',
    };
    const overloaded = await answeringServer(503, { 'retry-after': '0' });
    const agentrace = start({
      ...FAST,
      endpoint: overloaded.url,
      apiKey: keys.AGENTRACE_INGEST_KEY,
      spoolDir: tempDir(),
    });
    const traceIds = [await agentRun('busy-1'), await agentRun('busy-2')];
    await agentrace.forceFlush();
    expect(overloaded.requests()).toBeGreaterThan(1);
    expect(agentrace.stats()).toMatchObject({ pendingSpans: 2 * SPANS_PER_RUN, droppedSpans: 0 });
    await overloaded.close();

    const receiver = await startTestServer({ ...keys, AGENTRACE_OTLP_HTTP_PORT: String(overloaded.port) });
    try {
      await agentrace.forceFlush();
      await expectStoredOnce(receiver, traceIds);
    } finally {
      await receiver.close();
    }
  });

  it('waits in forceFlush for a batch the processor timer already sent to a slow receiver', async () => {
    const slow = await answeringServer(503, { 'retry-after': '0' }, 300);
    try {
      const agentrace = start({
        ...FAST,
        endpoint: slow.url,
        apiKey: 'ingest-key-for-slow-test',
        spoolDir: tempDir(),
      });
      await agentRun('in-flight');
      await eventually(async () => expect(slow.requests()).toBe(1)); // the timer's export, still unanswered
      await agentrace.forceFlush();
      expect(agentrace.stats()).toMatchObject({ pendingSpans: SPANS_PER_RUN, droppedSpans: 0 });
    } finally {
      await slow.close();
    }
  });

  it('drops what the receiver refuses for good (a bad key) instead of spooling it, and says so', async () => {
    const receiver = await startTestServer();
    const diagnostics = captureDiag();
    try {
      const agentrace = start({
        ...FAST,
        endpoint: receiver.otlpUrl,
        apiKey: 'not-a-valid-key-at-all',
        spoolDir: tempDir(),
      });
      await agentRun('refused');
      await agentrace.forceFlush();
      expect(agentrace.stats()).toMatchObject({ pendingSpans: 0, droppedSpans: 0 });
      expect(diagnostics.messages.some((m) => m.includes(`refused ${SPANS_PER_RUN} spans, dropped`))).toBe(
        true,
      );
      expect(listOf(Run).parse((await receiver.api('/v1/runs')).body).data).toEqual([]);
    } finally {
      diagnostics.stop();
      await receiver.close();
    }
  });
});
