import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from './config.ts';

const KEY = { AGENTRACE_API_KEY: 'ingest-key-0123456789' };

describe('resolveConfig', () => {
  it('defaults to the local receiver, a short batch delay and a bounded spool per service', () => {
    expect(resolveConfig({ serviceName: 'planner' }, KEY)).toEqual({
      tracesUrl: 'http://127.0.0.1:4318/v1/traces',
      headers: { authorization: 'Bearer ingest-key-0123456789' },
      serviceName: 'planner',
      resourceAttributes: {},
      batchDelayMs: 200,
      maxQueueSpans: 2048,
      maxBatchSpans: 512,
      exportTimeoutMs: 5000,
      spool: {
        dir: path.join(tmpdir(), 'agentrace-spool', 'planner'),
        maxBytes: 64 * 1024 * 1024,
        maxBackoffMs: 30_000,
      },
    });
  });

  it.each([
    [
      'an option in code over every variable',
      { endpoint: 'http://code:1' },
      { AGENTRACE_ENDPOINT: 'http://ours:2', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://otel:3/x' },
      'http://code:1/v1/traces',
    ],
    [
      'AGENTRACE_ENDPOINT over the OTel variables',
      {},
      { AGENTRACE_ENDPOINT: 'http://ours:2/', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4' },
      'http://ours:2/v1/traces',
    ],
    [
      'the OTel per-signal endpoint as it is',
      {},
      {
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://otel:3/custom/traces',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4',
      },
      'http://otel:3/custom/traces',
    ],
    [
      'the OTel base endpoint with /v1/traces',
      {},
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4' },
      'http://otel:4/v1/traces',
    ],
  ])('takes %s', (_, options, env, tracesUrl) => {
    expect(resolveConfig(options, { ...KEY, ...env }).tracesUrl).toBe(tracesUrl);
  });

  it('reads the OTel SDK variables: headers, service name, resource attributes, batch settings', () => {
    const config = resolveConfig(
      {},
      {
        OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20from-otel-headers,x-tenant=acme',
        OTEL_SERVICE_NAME: 'otel-named',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=dev,team=agents',
        OTEL_BSP_SCHEDULE_DELAY: '50',
        OTEL_BSP_MAX_QUEUE_SIZE: '100',
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '500',
        OTEL_EXPORTER_OTLP_TIMEOUT: '7000',
      },
    );
    expect(config).toMatchObject({
      headers: { authorization: 'Bearer from-otel-headers', 'x-tenant': 'acme' },
      serviceName: 'otel-named',
      resourceAttributes: { 'deployment.environment': 'dev', team: 'agents' },
      batchDelayMs: 50,
      maxQueueSpans: 100,
      maxBatchSpans: 100, // never more than the queue holds
      exportTimeoutMs: 7000,
    });
  });

  it.each([
    ['AGENTRACE_API_KEY', { AGENTRACE_API_KEY: 'key-a', AGENTRACE_INGEST_KEY: 'key-b' }, 'Bearer key-a'],
    [
      'AGENTRACE_INGEST_KEY, the name the server and the demo use',
      { AGENTRACE_INGEST_KEY: 'key-b' },
      'Bearer key-b',
    ],
  ])('takes the key from %s, over an Authorization header', (_, env, authorization) => {
    const config = resolveConfig({}, { ...env, OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer other' });
    expect(config.headers.authorization).toBe(authorization);
  });

  it('turns the spool off with a size of 0, and takes its directory and backoff from the environment', () => {
    expect(resolveConfig({}, { ...KEY, AGENTRACE_SPOOL_MAX_BYTES: '0' }).spool).toBeNull();
    expect(
      resolveConfig(
        {},
        { ...KEY, AGENTRACE_SPOOL_DIR: '/var/spool/x', AGENTRACE_SPOOL_MAX_BACKOFF_MS: '1000' },
      ).spool,
    ).toEqual({
      dir: '/var/spool/x',
      maxBytes: 64 * 1024 * 1024,
      maxBackoffMs: 1000,
    });
  });

  it.each([
    ['no key at all', {}, {}, /no API key: pass apiKey, or set AGENTRACE_API_KEY/],
    [
      'a bad variable, named',
      {},
      { ...KEY, AGENTRACE_BATCH_DELAY_MS: 'soon' },
      /batchDelayMs \(AGENTRACE_BATCH_DELAY_MS\): /,
    ],
    [
      'a bad URL',
      {},
      { ...KEY, OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' },
      /endpoint \(OTEL_EXPORTER_OTLP_ENDPOINT\): /,
    ],
    ['an unknown option', { endpiont: 'http://x' }, KEY, /invalid options: .*Unrecognized key/],
  ])('refuses %s', (_, options, env, message) => {
    expect(() => resolveConfig(options as never, env)).toThrow(message);
  });
});
