import { afterEach, describe, expect, it } from 'vitest';
import { GateRequestError } from './errors.ts';
import { configureGate, gateConfig } from './gate-config.ts';
import { guardTool } from './guard-tool.ts';

afterEach(() => configureGate({}));

describe('gateConfig', () => {
  it.each([
    [
      { AGENTRACE_API_URL: 'http://api:8080/', AGENTRACE_API_KEY: 'k1' },
      { apiUrl: 'http://api:8080', apiKey: 'k1', endpoint: null },
    ],
    [
      {
        AGENTRACE_API_URL: 'http://api',
        AGENTRACE_INGEST_KEY: 'k2',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318',
      },
      { apiUrl: 'http://api', apiKey: 'k2', endpoint: 'http://otel:4318' },
    ],
    [
      {
        AGENTRACE_API_URL: 'http://api',
        AGENTRACE_API_KEY: 'k1',
        AGENTRACE_INGEST_KEY: 'k2',
        AGENTRACE_ENDPOINT: 'http://r',
      },
      { apiUrl: 'http://api', apiKey: 'k1', endpoint: 'http://r' },
    ],
  ])('reads %j from the environment', (env, expected) => {
    expect(gateConfig(env)).toEqual(expected);
  });

  it('prefers what configureGate() was given', () => {
    configureGate({ apiUrl: 'http://mine', apiKey: 'mine' });
    expect(gateConfig({ AGENTRACE_API_URL: 'http://env', AGENTRACE_API_KEY: 'env' })).toMatchObject({
      apiUrl: 'http://mine',
      apiKey: 'mine',
    });
  });

  it('fails closed without a URL or a key', () => {
    expect(() => gateConfig({ AGENTRACE_API_KEY: 'k' })).toThrow(GateRequestError);
    expect(() => gateConfig({ AGENTRACE_API_URL: 'http://api' })).toThrow(/AGENTRACE_API_KEY/);
  });

  it('refuses bad options', () => {
    expect(() => configureGate({ apiUrl: 'not a url' })).toThrow(/configureGate\(\): apiUrl/);
  });
});

describe('guardTool', () => {
  it.each([
    ['', {}, {}, /name/],
    ['t', [] as never, {}, /args/],
    ['t', {}, { waitMs: -1 }, /waitMs/],
    ['t', {}, { runId: 'run-1' }, /runId/],
    ['t', {}, { breakGlass: { reason: ' ', apiKey: 'k' } }, /breakGlass.reason/],
  ])('refuses name %j, args %j, options %j before asking anyone', async (name, args, options, message) => {
    let ran = false;
    await expect(
      guardTool(
        name,
        args,
        () => {
          ran = true;
        },
        options,
      ),
    ).rejects.toThrow(message);
    expect(ran).toBe(false);
  });

  it('fails closed outside a run, without running the tool', async () => {
    configureGate({ apiUrl: 'http://127.0.0.1:9', apiKey: 'k' });
    let ran = false;
    await expect(
      guardTool('search', {}, () => {
        ran = true;
      }),
    ).rejects.toThrow(GateRequestError);
    expect(ran).toBe(false);
  });

  it('fails closed when the server is unreachable', async () => {
    configureGate({ apiUrl: 'http://127.0.0.1:9', apiKey: 'k' });
    await expect(guardTool('search', {}, () => 'ran', { runId: crypto.randomUUID() })).rejects.toThrow(
      /unreachable/,
    );
  });
});
