import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { SETTINGS } from './config.ts';

// There is no Docker engine in CI: these tests read the deployment files and check that they agree with
// each other and with agentrace's defaults, which is what breaks silently when either side changes.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (file: string) => readFileSync(ROOT + file, 'utf8');
const defaultOf = (setting: { schema: z.ZodType }) => setting.schema.parse(undefined) as number;
const PORTS = {
  otlpHttp: defaultOf(SETTINGS.otlpHttpPort),
  otlpGrpc: defaultOf(SETTINGS.otlpGrpcPort),
  api: defaultOf(SETTINGS.apiPort),
};
const INGEST_KEY_HEADER = `Bearer \${env:${SETTINGS.ingestKey.env}}`;

const Components = z.record(z.string(), z.record(z.string(), z.unknown()).nullable());
const CollectorConfig = z.object({
  extensions: Components.default({}),
  receivers: Components,
  processors: Components,
  exporters: Components,
  service: z.object({
    extensions: z.array(z.string()).default([]),
    pipelines: z.record(
      z.string(),
      z.object({ receivers: z.array(z.string()), processors: z.array(z.string()).default([]), exporters: z.array(z.string()) }),
    ),
  }),
});
const ComposeService = z.object({
  image: z.string().optional(),
  build: z.union([z.string(), z.object({ context: z.string() })]).optional(),
  command: z.array(z.string()).optional(),
  environment: z.record(z.string(), z.union([z.string(), z.number()])).default({}),
  ports: z.array(z.string()).default([]),
  volumes: z.array(z.string()).default([]),
  depends_on: z.record(z.string(), z.object({ condition: z.string() })).default({}),
});
const Compose = z.object({ services: z.record(z.string(), ComposeService), volumes: z.record(z.string(), z.unknown()).optional() });

const collector = CollectorConfig.parse(parse(read('otel-collector-config.yaml')));
const compose = Compose.parse(parse(read('docker-compose.yml')));
/** The component type of an id such as `otlp_http/agentrace`. */
const typeOf = (id: string) => id.split('/')[0]!;
const exporterOfType = (type: string) => {
  const ids = Object.keys(collector.exporters).filter((id) => typeOf(id) === type);
  expect(ids, `one ${type} exporter`).toHaveLength(1);
  return z
    .object({ endpoint: z.string(), headers: z.record(z.string(), z.string()), tls: z.object({ insecure: z.boolean() }).optional() })
    .parse(collector.exporters[ids[0]!]);
};
const headerValue = (headers: Record<string, string>, name: string) =>
  Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
/** Container ports a service publishes, from "host:container" entries. */
const publishedPorts = (service: z.infer<typeof ComposeService>) => service.ports.map((p) => Number(p.split(':').at(-1)));

describe('otel-collector-config.yaml', () => {
  it.each(Object.entries(collector.service.pipelines))('pipeline %s names only defined components', (_, pipeline) => {
    for (const id of pipeline.receivers) expect(collector.receivers, `receiver ${id}`).toHaveProperty([id]);
    for (const id of pipeline.processors) expect(collector.processors, `processor ${id}`).toHaveProperty([id]);
    for (const id of pipeline.exporters) expect(collector.exporters, `exporter ${id}`).toHaveProperty([id]);
    expect(pipeline.receivers.length * pipeline.exporters.length).toBeGreaterThan(0);
  });

  it('starts every extension it defines and uses every receiver, processor and exporter in a pipeline', () => {
    expect(collector.service.extensions.sort()).toEqual(Object.keys(collector.extensions).sort());
    const pipelines = Object.values(collector.service.pipelines);
    for (const kind of ['receivers', 'processors', 'exporters'] as const) {
      const used = new Set(pipelines.flatMap((p) => p[kind]));
      expect(Object.keys(collector[kind]).filter((id) => !used.has(id)), `unused ${kind}`).toEqual([]);
    }
  });

  it('receives OTLP over gRPC and HTTP on all interfaces, on the standard ports', () => {
    expect(collector.receivers.otlp).toEqual({
      protocols: { grpc: { endpoint: '0.0.0.0:4317' }, http: { endpoint: '0.0.0.0:4318' } },
    });
  });

  it('limits memory first and batches last, with an attributes and a redaction processor between', () => {
    for (const pipeline of Object.values(collector.service.pipelines)) {
      const types = pipeline.processors.map(typeOf);
      expect(types[0]).toBe('memory_limiter');
      expect(types.at(-1)).toBe('batch');
      expect(types).toEqual(expect.arrayContaining(['attributes', 'redaction']));
    }
  });

  it('never masks token counts in its redaction processor', () => {
    const redaction = z
      .object({ blocked_key_patterns: z.array(z.string()).default([]) })
      .parse(collector.processors[Object.keys(collector.processors).find((id) => typeOf(id) === 'redaction')!]);
    for (const key of ['gen_ai.usage.input_tokens', 'gen_ai.usage.output_tokens', 'gen_ai.request.model']) {
      for (const pattern of redaction.blocked_key_patterns) {
        expect(new RegExp(pattern.replace('(?i)', ''), 'i').test(key), `${pattern} masks ${key}`).toBe(false);
      }
    }
  });

  it("exports over OTLP/HTTP to agentrace's receiver port with the ingest key from the environment", () => {
    const http = exporterOfType('otlp_http');
    const url = new URL(http.endpoint);
    expect([url.protocol, url.hostname, Number(url.port), url.pathname]).toEqual(['http:', 'agentrace', PORTS.otlpHttp, '/']);
    expect(headerValue(http.headers, 'authorization')).toBe(INGEST_KEY_HEADER);
  });

  it("exports over OTLP/gRPC to agentrace's gRPC port, in clear text, with the ingest key from the environment", () => {
    const grpc = exporterOfType('otlp_grpc');
    expect(grpc.endpoint).toBe(`agentrace:${PORTS.otlpGrpc}`);
    expect(grpc.tls?.insecure).toBe(true);
    expect(headerValue(grpc.headers, 'authorization')).toBe(INGEST_KEY_HEADER);
  });
});

describe('docker-compose.yml', () => {
  const { postgres, agentrace, 'otel-collector': otelCollector } = compose.services;

  it('references only services it defines, and the named volumes it declares', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const dependency of Object.keys(service.depends_on)) expect(compose.services, `${name} → ${dependency}`).toHaveProperty([dependency]);
      for (const volume of service.volumes.map((v) => v.split(':')[0]!).filter((v) => !v.startsWith('.'))) {
        expect(compose.volumes ?? {}, `${name} volume ${volume}`).toHaveProperty([volume]);
      }
    }
    // The Collector reaches agentrace by its service name.
    expect(compose.services).toHaveProperty([new URL(exporterOfType('otlp_http').endpoint).hostname]);
  });

  it('runs PostgreSQL 17 and points agentrace at it', () => {
    expect(postgres?.image).toBe('postgres:17');
    const url = new URL(String(agentrace?.environment.DATABASE_URL));
    expect(url.protocol).toBe('postgres:');
    expect(compose.services).toHaveProperty([url.hostname]);
    expect(url.pathname).toBe(`/${postgres?.environment.POSTGRES_DB}`);
    expect(agentrace?.depends_on.postgres).toEqual({ condition: 'service_healthy' });
  });

  it('builds agentrace from the Dockerfile, listening on all interfaces and publishing its default ports', () => {
    expect(agentrace?.build).toBe('.');
    expect(agentrace?.environment.AGENTRACE_HOST).toBe('0.0.0.0');
    expect(publishedPorts(agentrace!).sort((a, b) => a - b)).toEqual([PORTS.otlpGrpc, PORTS.otlpHttp, PORTS.api]);
  });

  it('runs the contrib Collector on the mounted config, with the ingest key the config reads', () => {
    expect(otelCollector?.image).toMatch(/^otel\/opentelemetry-collector-contrib:\d+\.\d+\.\d+$/);
    const configPath = otelCollector?.command?.find((arg) => arg.startsWith('--config='))?.slice('--config='.length);
    expect(otelCollector?.volumes).toContain(`./otel-collector-config.yaml:${configPath}:ro`);
    expect(otelCollector?.environment).toHaveProperty([SETTINGS.ingestKey.env]);
    expect(agentrace?.environment[SETTINGS.ingestKey.env]).toBe(otelCollector?.environment[SETTINGS.ingestKey.env]);
    expect(publishedPorts(otelCollector!)).toEqual(expect.arrayContaining([4317, 4318]));
  });
});

describe('Dockerfile', () => {
  /** Instructions as [KEYWORD, arguments], continuation lines joined, comments dropped. */
  const instructions = read('Dockerfile')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return [keyword!.toUpperCase(), rest.join(' ')] as const;
    });
  const argsOf = (keyword: string) => instructions.filter(([k]) => k === keyword).map(([, args]) => args);

  it('builds on node:20-slim with a clean install of the lockfile', () => {
    expect(argsOf('FROM')).toEqual(['node:20-slim']);
    expect(argsOf('RUN').some((run) => /\bnpm ci\b/.test(run))).toBe(true);
  });

  it('runs `agentrace serve` through the bin that exists, in exec form, listening on all interfaces', () => {
    const [cmd] = argsOf('CMD');
    expect(JSON.parse(cmd!)).toEqual(['node', 'cli/bin/agentrace.mjs', 'serve']);
    expect(existsSync(`${ROOT}cli/bin/agentrace.mjs`)).toBe(true);
    expect(argsOf('ENV').join(' ')).toMatch(/\bAGENTRACE_HOST=0\.0\.0\.0\b/);
  });

  it("exposes agentrace's default ports", () => {
    expect(argsOf('EXPOSE').join(' ').split(/\s+/).map(Number).sort((a, b) => a - b)).toEqual([PORTS.otlpGrpc, PORTS.otlpHttp, PORTS.api]);
  });
});
