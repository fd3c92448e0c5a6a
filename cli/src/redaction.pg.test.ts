import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJson, listOf, Run, Step } from '@agentrace/schemas';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportSpans, otlpExporter, recordingTracer } from './testing/otel-client.ts';
import { startTestServer, type TestServer } from './testing/test-server.ts';

// Realistic shapes, made up. Each is searched for verbatim in the database and in every API answer.
const SECRETS = {
  openai: 'sk-proj-4fJ9kQ2xT7mN1pR8vW3yZ6bC0dE5gH2jK9nL4qS7tU1w',
  anthropic:
    'sk-ant-api03-Xq7Lm2Np9Rt4Vw8Yz1Bc5Df0Gh3Jk6Mn9Pq2St5Uv8Wx1Yz4Ab7Cd0Ef3Gh6Jk9Lm2Np5Qr8St1Uv4Wx7-AA',
  google: 'AIzaSyB3xK9mP2qR7sT1vW5yZ8aC4dF6gH0jL3n',
  awsKeyId: 'AKIAZ7Q3MX5RT2LPVN4K',
  awsSecret: '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',
  github: 'ghp_R4nD0mT0k3nV4lu3F0rT3st1ngPurp0s3sX9q',
  jwt: 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTQyIiwiZXhwIjoxOTAwMDAwMDAwfQ.Qm9ndXNTaWduYXR1cmVGb3JUZXN0c09ubHlfMTIzNDU2Nzg5MA',
  pemBody: 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDf3kq9Lm2Np8Rt4Vw',
  urlPassword: 'Tr0ub4dor-And-3',
  bearer: 'xoxb7Hf3Kq9Lm2Np8Rt4Vw1Yz5',
  plainUnderKey: 'correct-horse-battery-staple',
  toolArgPassword: 'Hunter2-Db-Passw0rd',
  tagSecret: 'deploy-tag-secret-8812',
};
const PEM = `-----BEGIN RSA PRIVATE KEY-----\n${SECRETS.pemBody}\nCz9aB3cD5eF7gH9iJ1kL3mN5oP7qR9sT1uV3wX5yZ7aB9cD1eF3gH5iJ7kL9mN1o\n-----END RSA PRIVATE KEY-----`;

/** One agent run whose secrets sit in every place a producer puts them. */
function runWithSecrets(): ReadableSpan[] {
  const t = recordingTracer('leaky-agent', {
    'deployment.environment': 'prod',
    'process.command_args': ['node', 'agent.js', `--openai-key=${SECRETS.openai}`],
    'cloud.credentials': `${SECRETS.awsKeyId}:${SECRETS.awsSecret}`,
  });
  const root = t.start('invoke_agent support', {
    'gen_ai.operation.name': 'invoke_agent',
    'gen_ai.agent.name': 'support',
    'agentrace.run.tags.deploy_token': SECRETS.tagSecret,
    'agentrace.run.tags.env': 'prod',
  });
  const chat = t.start(
    'chat claude-sonnet-4',
    {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': 'claude-sonnet-4',
      'gen_ai.input.messages': JSON.stringify([
        {
          role: 'user',
          parts: [
            {
              type: 'text',
              content: `Here is my Anthropic key ${SECRETS.anthropic}, and a JWT ${SECRETS.jwt}`,
            },
          ],
        },
      ]),
      'gen_ai.output.messages': JSON.stringify([
        {
          role: 'assistant',
          parts: [{ type: 'text', content: `Set GOOGLE_API_KEY=${SECRETS.google} then retry.` }],
        },
      ]),
      api_key: SECRETS.plainUnderKey,
    },
    root,
  );
  chat.setAttribute('http.request.header.authorization', [`Bearer ${SECRETS.bearer}`]);
  chat.addEvent('gen_ai.user.message', { content: `my github token is ${SECRETS.github}` });
  chat.end();
  const tool = t.start(
    'execute_tool query_db',
    {
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'query_db',
      'gen_ai.tool.call.arguments': JSON.stringify({ sql: 'select 1', password: SECRETS.toolArgPassword }),
      'db.connection_string': `postgres://app:${SECRETS.urlPassword}@db.internal:5432/prod`,
      'tls.private_key': PEM,
    },
    root,
  );
  const error = new Error(
    `connection refused for postgres://app:${SECRETS.urlPassword}@db.internal (key ${SECRETS.awsKeyId})`,
  );
  tool.recordException(error);
  tool.setStatus({ code: 2, message: error.message });
  tool.end();
  root.end();
  return t.memory.getFinishedSpans() as ReadableSpan[];
}

/** Every needle of `SECRETS` found in `text`, by name. */
const leaks = (text: string) =>
  Object.entries(SECRETS).flatMap(([name, secret]) => (text.includes(secret) ? [name] : []));

/** The secrets found in each table of the test database, by table (all of them, not only run and step). */
async function leaksByTable(s: TestServer): Promise<Record<string, string[]>> {
  const { rows: tables } = await s.db.pool.query<{ name: string }>(
    `SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()`,
  );
  expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['run', 'step', 'invocation']));
  const found: Record<string, string[]> = {};
  for (const { name } of tables) {
    const { rows } = await s.db.pool.query<{ dump: string | null }>(
      `SELECT string_agg(t::text, '') AS dump FROM "${name}" t`,
    );
    const names = leaks(rows[0]!.dump ?? '');
    if (names.length > 0) found[name] = names;
  }
  return found;
}

describe('redaction end to end: real OTel SDK and OTLP exporter, secrets everywhere', () => {
  let s: TestServer;
  let run: Run;
  const answers: string[] = [];
  const get = async (path: string) => {
    const res = await fetch(s.apiUrl + path, { headers: { authorization: `Bearer ${s.adminKey}` } });
    const text = await res.text();
    expect(res.status, path).toBe(200);
    answers.push(text);
    return JSON.parse(text) as unknown;
  };

  beforeAll(async () => {
    s = await startTestServer();
    const spans = runWithSecrets();
    expect(await exportSpans(otlpExporter('proto', s.otlpUrl, s.ingestKey), spans)).toBe(0);
    const runs = listOf(Run).parse(await get(`/v1/runs?trace_id=${spans[0]!.spanContext().traceId}`)).data;
    expect(runs).toHaveLength(1);
    run = runs[0]!;
  });
  afterAll(async () => {
    await s?.close();
  });

  it('stores no byte of any secret, in any table', async () => {
    expect(await leaksByTable(s)).toEqual({});
  });

  it('answers no secret from runs, steps, timeline and invocations', async () => {
    await get(`/v1/runs/${run.run_id}`);
    await get(`/v1/runs/${run.run_id}/steps`);
    await get(`/v1/runs/${run.run_id}/timeline`);
    await get(`/v1/invocations?run_id=${run.run_id}`);
    await get('/v1/invocations');
    expect(answers).toHaveLength(6);
    for (const text of answers) expect(leaks(text)).toEqual([]);
  });

  it('keeps the text around each secret, and records where and which rule, never what', async () => {
    const steps = listOf(Step).parse(await get(`/v1/runs/${run.run_id}/steps`)).data;
    const byName = Object.fromEntries(steps.map((x) => [x.name, x]));
    const tool = byName['execute_tool query_db']!;
    expect(tool.error?.message).toBe(
      'connection refused for postgres://app:[REDACTED:pattern.url_password]@db.internal (key [REDACTED:pattern.aws_access_key])',
    );
    expect(tool.error?.stack).toContain('[REDACTED:pattern.url_password]');
    expect(
      JSON.parse((tool.payload.attributes as Record<string, string>)['gen_ai.tool.call.arguments']!),
    ).toEqual({
      sql: 'select 1',
      password: '[REDACTED:denylist.key]',
    });
    expect(run.tags).toEqual({ env: 'prod', deploy_token: '[REDACTED:denylist.key]' });

    const chat = byName['chat claude-sonnet-4']!;
    expect(chat.payload.input).toEqual({
      messages: [
        {
          role: 'user',
          parts: [
            {
              type: 'text',
              content:
                'Here is my Anthropic key [REDACTED:pattern.anthropic_key], and a JWT [REDACTED:pattern.jwt]',
            },
          ],
        },
      ],
    });
    expect(chat.redaction_meta.paths).toEqual(
      expect.arrayContaining([
        "$.resource['process.command_args'][2]",
        "$.resource['cloud.credentials']",
        '$.attributes.api_key',
        "$.attributes['http.request.header.authorization'][0]",
        "$.attributes['gen_ai.input.messages']",
        '$.input.messages[0].parts[0].content',
        '$.events[0].attributes.content',
      ]),
    );
    expect(chat.redaction_meta.rules.map((r) => r.rule_id)).toEqual(
      expect.arrayContaining([
        'pattern.openai_key',
        'pattern.aws_access_key',
        'pattern.aws_secret_key',
        'denylist.key',
        'pattern.github_token',
      ]),
    );
    // Every step of the resource lists the resource's redactions.
    for (const step of steps) expect(step.redaction_meta.paths).toContain("$.resource['cloud.credentials']");
  });

  it('hashes the payload as stored', async () => {
    const steps = listOf(Step).parse(await get(`/v1/runs/${run.run_id}/steps`)).data;
    const { createHash } = await import('node:crypto');
    for (const step of steps) {
      expect(step.payload_hash).toBe(
        `sha256:${createHash('sha256').update(canonicalJson(step.payload)).digest('hex')}`,
      );
    }
  });
});

describe('redaction end to end: native REST runs and steps', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s?.close();
  });
  const post = async (path: string, body: unknown) => {
    const res = await fetch(s.otlpUrl + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.ingestKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as { run_id: string } };
  };
  const get = (path: string) =>
    fetch(s.apiUrl + path, { headers: { authorization: `Bearer ${s.adminKey}` } });

  it('stores and answers none of the secrets of a run, its tags and its steps', async () => {
    const created = await post('/v1/runs', {
      name: `nightly sync with ${SECRETS.github}`,
      tags: { env: 'prod', deploy_token: SECRETS.tagSecret, note: `aws ${SECRETS.awsKeyId}` },
    });
    expect(created.status).toBe(201);
    const runId = created.body.run_id;
    const steps = await post(`/v1/runs/${runId}/steps`, {
      steps: [
        {
          type: 'tool',
          name: `fetch with Bearer ${SECRETS.bearer}`,
          schema_version: 1,
          ts: '2026-01-01T00:00:00.000Z',
          tool_name: `curl ${SECRETS.google}`,
          error: {
            type: 'HttpError',
            message: `401 for ${SECRETS.openai}`,
            stack: `HttpError: 401\n  key=${SECRETS.anthropic}`,
          },
          payload: {
            input: {
              url: `https://svc:${SECRETS.urlPassword}@api.internal/x`,
              args: JSON.stringify({ api_key: SECRETS.plainUnderKey }),
            },
            output: { body: `token ${SECRETS.jwt}` },
          },
        },
      ],
    });
    expect(steps.status).toBe(200);

    expect(await leaksByTable(s)).toEqual({});
    for (const path of [
      `/v1/runs/${runId}`,
      `/v1/runs/${runId}/steps`,
      `/v1/runs/${runId}/timeline`,
      `/v1/invocations?run_id=${runId}`,
    ]) {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      expect(leaks(await res.text()), path).toEqual([]);
    }
    const run = Run.parse(await (await get(`/v1/runs/${runId}`)).json());
    expect(run.name).toBe('nightly sync with [REDACTED:pattern.github_token]');
    expect(run.tags).toEqual({
      env: 'prod',
      deploy_token: '[REDACTED:denylist.key]',
      note: 'aws [REDACTED:pattern.aws_access_key]',
    });
  });
});

describe('the redaction file (AGENTRACE_REDACTION_FILE)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentrace-redaction-e2e-'));

  it('disables a default rule and adds a key rule and a value rule, end to end', async () => {
    const file = join(dir, 'redaction.yaml');
    writeFileSync(
      file,
      [
        'disable: [pattern.jwt]',
        'keys:',
        '  - {id: custom.ssn, pattern: "(^|_)ssn$"}',
        'values:',
        '  - {id: custom.employee, pattern: "EMP-(\\\\d{6})", group: 1}',
        '',
      ].join('\n'),
    );
    const s = await startTestServer({ AGENTRACE_REDACTION_FILE: file });
    try {
      const t = recordingTracer();
      t.start('lookup', {
        'user.ssn': '078-05-1120',
        note: 'badge EMP-424242 at desk 7',
        session: SECRETS.jwt,
        password: 'pw-123',
      }).end();
      expect(
        await exportSpans(otlpExporter('json', s.otlpUrl, s.ingestKey), t.memory.getFinishedSpans()),
      ).toBe(0);
      const { rows } = await s.db.pool.query<{ payload: { attributes: Record<string, string> } }>(
        'SELECT payload FROM step',
      );
      expect(rows[0]!.payload.attributes).toMatchObject({
        'user.ssn': '[REDACTED:custom.ssn]',
        note: 'badge EMP-[REDACTED:custom.employee] at desk 7',
        session: SECRETS.jwt,
        password: '[REDACTED:denylist.key]',
      });
    } finally {
      await s.close();
    }
  });

  it('stops `agentrace serve` at start with an error naming the file and the problem', () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, JSON.stringify({ values: [{ id: 'ticket', pattern: 'TCK-(\\d+' }] }));
    const cli = spawnSync(process.execPath, ['cli/bin/agentrace.mjs', 'serve'], {
      env: {
        ...process.env,
        AGENTRACE_REDACTION_FILE: file,
        DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
      },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(cli.status).toBe(1);
    expect(cli.stderr).toContain(`redaction file ${file}`);
    expect(cli.stderr).toContain('values.0.pattern: invalid regular expression');
  });
});
