import { PassThrough } from 'node:stream';
import { ErrorEnvelope, Run, Step, Timeline } from '@agentrace/schemas';
import { createTenant, type NewTenant } from '@agentrace/store';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseConfig } from './config.ts';
import { EXPORT_FLAGS, exportCommand } from './export.ts';
import { exportSpans, otlpExporter, recordAgentRun, recordingTracer } from './testing/otel-client.ts';
import { startTestServer, type TestServer } from './testing/test-server.ts';

const Trajectory = Run.extend({ steps: z.array(Step) }).strict();

let s: TestServer;
let runs: Run[];
let copy: NewTenant;

beforeAll(async () => {
  s = await startTestServer();
  const tracer = recordingTracer();
  for (const session of ['first', 'second']) {
    expect(
      await exportSpans(otlpExporter('proto', s.otlpUrl, s.ingestKey), recordAgentRun(tracer, session)),
    ).toBe(0);
  }
  runs = z
    .object({ data: z.array(Run) })
    .parse((await s.api('/v1/runs')).body)
    .data.reverse();
  copy = await createTenant(s.db.pool, 'copy');
});
afterAll(async () => {
  await s?.close();
});

async function exportBody(path: string, key?: string) {
  const res = await fetch(`${s.apiUrl}${path}`, {
    headers: { authorization: `Bearer ${key ?? s.adminKey}` },
  });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

describe('GET /v1/runs/{run_id}/export', () => {
  it('answers one JSON line: the run and its steps in time order, with inputs and outputs', async () => {
    const res = await exportBody(`/v1/runs/${runs[0]!.run_id}/export`);
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/application\/x-ndjson/);
    expect(res.text.endsWith('\n')).toBe(true);
    const lines = res.text.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    const trajectory = Trajectory.parse(JSON.parse(lines[0]!));
    expect(trajectory).toMatchObject(runs[0]!);
    expect(trajectory.steps.map((step) => step.name)).toEqual([
      'invoke_agent planner',
      'chat gpt-4o',
      'execute_tool search',
      'chat gpt-4o-mini',
      'execute_tool fetch',
    ]);
    expect(trajectory.steps[2]!.payload.input).toEqual({ arguments: { q: 'otel' } });
  });

  it('answers an OTLP/JSON request that the receiver takes back as the same run', async () => {
    const res = await exportBody(`/v1/runs/${runs[1]!.run_id}/export?format=otlp`);
    expect(res.status).toBe(200);
    const posted = await fetch(`${s.otlpUrl}/v1/traces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${copy.ingestKey.key}`, 'content-type': 'application/json' },
      body: res.text,
    });
    expect(posted.status).toBe(200);
    const original = Timeline.parse((await s.api(`/v1/runs/${runs[1]!.run_id}/timeline`)).body);
    // The same trace is another run id in another tenant.
    const copiedRuns = (await s.api(`/v1/runs?trace_id=${original.run.trace_id}`, { key: copy.adminKey.key }))
      .body;
    const copiedId = z.object({ data: z.array(Run).length(1) }).parse(copiedRuns).data[0]!.run_id;
    const copied = Timeline.parse(
      (await s.api(`/v1/runs/${copiedId}/timeline`, { key: copy.adminKey.key })).body,
    );
    const shape = (t: Timeline) =>
      t.steps.map((x) => [
        x.name,
        x.type,
        x.depth,
        x.ts,
        x.duration_ms,
        x.status,
        x.span_id,
        x.payload.attributes,
        x.error,
      ]);
    expect(shape(copied)).toEqual(shape(original));
    const { run_id: _a, project_id: _b, ...runFields } = original.run;
    expect(copied.run).toMatchObject(runFields);
  });

  it.each([
    ['another tenant’s run', () => exportBody(`/v1/runs/${runs[0]!.run_id}/export`, copy.adminKey.key), 404],
    ['a malformed id', () => exportBody('/v1/runs/nope/export'), 400],
    ['an unknown format', () => exportBody(`/v1/runs/${runs[0]!.run_id}/export?format=csv`), 400],
  ])('answers %s with %i', async (_, request, status) => {
    const res = await request();
    expect(res.status).toBe(status);
    ErrorEnvelope.parse(JSON.parse(res.text));
  });
});

describe('agentrace export', () => {
  async function cli(argv: string[]) {
    const { config, positionals, flags } = parseConfig(
      argv,
      { DATABASE_URL: s.db.url, AGENTRACE_LOG_LEVEL: 'silent' },
      EXPORT_FLAGS,
    );
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const code = await exportCommand(config, pino({ level: 'silent' }), positionals.slice(1), flags, out);
    return { code, lines: Buffer.concat(chunks).toString().split('\n').filter(Boolean) };
  }

  it('writes one trajectory per line, oldest run first', async () => {
    const res = await cli(['export', '--tenant', s.tenantId]);
    expect(res.code).toBe(0);
    const trajectories = res.lines.map((line) => Trajectory.parse(JSON.parse(line)));
    expect(trajectories.map((t) => t.run_id)).toEqual(runs.map((r) => r.run_id));
    expect(trajectories.map((t) => t.steps.length)).toEqual([5, 5]);
  });

  it.each([
    ['--since after the last run', () => ['--since', '2999-01-01T00:00:00Z'], 0],
    ['--until after the last run', () => ['--until', '2999-01-01T00:00:00Z'], 2],
    ['--project of the runs', () => ['--project', s.projectId], 2],
    ['--project of no runs', () => ['--project', copy.projectId], 0],
  ])('exports the runs of %s', async (_, extra, count) => {
    expect((await cli(['export', '--tenant', s.tenantId, ...extra()])).lines).toHaveLength(count);
  });

  it('asks for --tenant when there are several, and refuses bad flags', async () => {
    await expect(cli(['export'])).rejects.toThrow(/--tenant/);
    expect((await cli(['export', '--since', 'last week'])).code).toBe(2);
  });
});
