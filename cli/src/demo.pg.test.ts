import { Invocation, listOf, Run } from '@agentrace/schemas';
import { createTestDatabase } from '@agentrace/store/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from './config.ts';
import { type DemoIo, runDemo } from './demo.ts';
import { startTestServer, type TestServer } from './testing/test-server.ts';

const logger = pino({ level: 'silent' });

function recordingIo(): DemoIo & { text: () => string; stopRequested: () => boolean } {
  let text = '';
  let asked = false;
  return {
    out: (t) => {
      text += t;
    },
    untilStopped: () => {
      asked = true;
      return Promise.resolve();
    },
    text: () => text,
    stopRequested: () => asked,
  };
}

const configFor = (env: Record<string, string>) =>
  parseConfig([], { AGENTRACE_LOG_LEVEL: 'silent', ...env }).config;

describe('agentrace demo against a running server', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s?.close();
  });

  const ports = () => ({
    AGENTRACE_OTLP_HTTP_PORT: String(s.server.ports.otlpHttp),
    AGENTRACE_API_PORT: String(s.server.ports.api),
  });

  it('asks for the keys instead of guessing, and sends nothing', async () => {
    const io = recordingIo();
    expect(await runDemo(configFor(ports()), logger, io)).toBe(2);
    expect(io.text()).toContain('A server is already running, so the demo needs its keys');
    expect(io.text()).toContain('AGENTRACE_INGEST_KEY=<ingest key> AGENTRACE_ADMIN_KEY=<admin key>');
    expect(listOf(Run).parse((await s.api('/v1/runs')).body).data).toEqual([]);
  });

  it('refuses a wrong ingest key before running anything', async () => {
    const io = recordingIo();
    const config = configFor({ ...ports(), AGENTRACE_INGEST_KEY: 'not-the-ingest-key-of-it' });
    expect(await runDemo(config, logger, io)).toBe(2);
    expect(io.text()).toContain('The receiver refused the ingest key (HTTP 401)');
  });

  it('runs the examples: runs, artifact invocations, failures and costs arrive, and it says where to look', async () => {
    const io = recordingIo();
    const config = configFor({
      ...ports(),
      AGENTRACE_INGEST_KEY: s.ingestKey,
      AGENTRACE_ADMIN_KEY: s.adminKey,
    });
    expect(await runDemo(config, logger, io)).toBe(0);
    expect(io.stopRequested()).toBe(true); // asked once, but not waited for: the server is not the demo's

    const runs = listOf(Run).parse((await s.api('/v1/runs?limit=1000')).body).data;
    expect(runs.map((r) => r.name).sort()).toEqual([
      ...Array(4).fill('gateway coach'),
      ...Array(2).fill('gateway safety'),
      'market simulation',
      'research question',
    ]);
    expect(runs.every((r) => r.status === 'succeeded' && r.cost_usd !== null && r.cost_usd > 0)).toBe(true);
    const invocations = listOf(Invocation).parse((await s.api('/v1/invocations?limit=1000')).body).data;
    const failureTypes = new Set(invocations.filter((i) => !i.success).map((i) => i.error_type));
    for (const type of ['timeout', 'validation', 'permission', 'RateLimitError', 'APIConnectionError']) {
      expect(failureTypes).toContain(type);
    }
    expect(invocations.filter((i) => i.kind === 'artifact').map((i) => i.target)).toContain(
      'contract:escrow-v2',
    );

    const research = runs.find((r) => r.name === 'research question')!;
    const text = io.text();
    expect(text).toContain(`What arrived: 8 runs (0 failed), ${invocations.length} invocations`);
    expect(text).toContain(`export KEY="Authorization: Bearer ${s.adminKey}"`);
    expect(text).toContain(`${s.apiUrl}/v1/runs/${research.run_id}/timeline`);
    expect(text).toContain(`"${s.apiUrl}/v1/invocations?success=false"`);
  });
});

describe('agentrace demo with no server running', () => {
  it('starts one on a fresh database, prints the keys it created, and stops it when told', async () => {
    const db = await createTestDatabase();
    try {
      const io = recordingIo();
      const config = configFor({
        DATABASE_URL: db.url,
        AGENTRACE_OTLP_HTTP_PORT: '0',
        AGENTRACE_API_PORT: '0',
        AGENTRACE_OTLP_GRPC_PORT: '0',
      });
      expect(await runDemo(config, logger, io)).toBe(0);
      const text = io.text();
      const adminKey = /admin key: +(\S+)/.exec(text)?.[1];
      expect(adminKey).toBeDefined();
      expect(text).toContain(`export KEY="Authorization: Bearer ${adminKey}"`);
      expect(text).toContain('What arrived: 8 runs (0 failed)');
      expect(text).toContain('Ctrl-C stops it');
      const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM run');
      expect(rows[0]!.n).toBe(8);
      // Stopped: the ports it printed no longer answer.
      const apiUrl = /curl -H "\$KEY" (http:\/\/\S+)\/v1\/runs\n/.exec(text)![1]!;
      await expect(fetch(`${apiUrl}/healthz`)).rejects.toThrow();
    } finally {
      await db.drop();
    }
  });
});
