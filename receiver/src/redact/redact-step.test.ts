import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { normalizeRequest } from '../normalize/normalize-request.ts';
import type { DecodedRequest, DecodedSpan } from '../otlp/decoded.ts';
import { Pricing } from '../pricing/pricing.ts';
import { redactStep } from './redact-step.ts';
import { DEFAULT_RULES, RedactionLog, redactValue } from './redactor.ts';

const OPENAI_KEY = 'sk-proj-Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6kM9n';
const GITHUB_TOKEN = 'ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8';

describe('redactStep: the one entry point of every ingest path', () => {
  const step = {
    name: `clone with ${GITHUB_TOKEN}`,
    error: { type: 'AuthError', message: `rejected ${OPENAI_KEY}`, stack: `AuthError\n  at ${OPENAI_KEY}` },
    payload: { input: { note: `use ${OPENAI_KEY}` }, attributes: { cookie: 'sid=1' } },
    facts: {
      toolName: `git ${GITHUB_TOKEN}`,
      inputTokens: 12,
      runTags: { team: 'a', token: 'plain-secret' },
    },
  };

  it('redacts the name, the error, the payload and every typed field, keeping other values', () => {
    const out = redactStep(DEFAULT_RULES, step);
    expect(out.name).toBe('clone with [REDACTED:pattern.github_token]');
    expect(out.error).toEqual({
      type: 'AuthError',
      message: 'rejected [REDACTED:pattern.openai_key]',
      stack: 'AuthError\n  at [REDACTED:pattern.openai_key]',
    });
    expect(out.facts).toEqual({
      toolName: 'git [REDACTED:pattern.github_token]',
      inputTokens: 12,
      runTags: { team: 'a', token: '[REDACTED:denylist.key]' },
    });
    expect(JSON.parse(out.payloadJson)).toEqual({
      input: { note: 'use [REDACTED:pattern.openai_key]' },
      attributes: { cookie: '[REDACTED:denylist.key]' },
    });
    expect(out.redactionMeta.paths).toEqual([
      '$.name',
      '$.error.message',
      '$.error.stack',
      '$.tool_name',
      '$.run_tags.token',
      '$.input.note',
      '$.attributes.cookie',
    ]);
    expect(JSON.stringify(out)).not.toMatch(/sk-proj-|ghp_|plain-secret|sid=1/);
  });

  it('hashes exactly the payload JSON it returns for storage', () => {
    const out = redactStep(DEFAULT_RULES, step);
    expect(out.payloadHash).toBe(`sha256:${createHash('sha256').update(out.payloadJson).digest('hex')}`);
  });

  it('starts its meta with the redactions it inherits (the resource and scope)', () => {
    const inherited = new RedactionLog();
    redactValue({ 'deployment.password': 'x' }, '$.resource', inherited);
    const out = redactStep(DEFAULT_RULES, { ...step, name: 'plain' }, inherited);
    expect(out.redactionMeta.paths[0]).toBe("$.resource['deployment.password']");
    expect(out.redactionMeta.rules.map((r) => r.rule_id)).toContain('denylist.key');
    expect(inherited.paths).toEqual(["$.resource['deployment.password']"]);
  });
});

describe('normalizeRequest: resource and scope redactions', () => {
  const span = (id: number): DecodedSpan => ({
    traceId: Buffer.alloc(16, 7),
    spanId: Buffer.from([0, 0, 0, 0, 0, 0, 0, id]),
    parentSpanId: Buffer.alloc(0),
    traceState: '',
    name: `step ${id}`,
    kind: 1,
    startNs: 1_700_000_000_000_000_000n,
    endNs: 1_700_000_001_000_000_000n,
    attributes: {},
    events: [],
    links: [],
    statusCode: 0,
    statusMessage: '',
  });
  const request: DecodedRequest = [
    {
      resource: {
        'service.name': 'agent',
        'process.command_args': ['node', 'agent.js', `--key=${OPENAI_KEY}`],
      },
      scopeSpans: [
        {
          scope: { name: 'lib', version: '1', attributes: { 'lib.token': 'abc' } },
          spans: [span(1), span(2)],
        },
        { scope: { name: 'other', version: '', attributes: {} }, spans: [span(3)] },
      ],
    },
  ];
  const ctx = { tenantId: 't', projectId: 'p', pricing: Pricing.load(), redaction: DEFAULT_RULES };

  it("lists them in each of their spans' redaction_meta, once, and stores neither secret", () => {
    const { records } = normalizeRequest(ctx, request);
    const resourcePath = "$.resource['process.command_args'][2]";
    expect(records.map((r) => (r.redactionMeta as { paths: string[] }).paths)).toEqual([
      [resourcePath, "$.scope.attributes['lib.token']"],
      [resourcePath, "$.scope.attributes['lib.token']"],
      [resourcePath],
    ]);
    expect(records[0]!.redactionMeta).toMatchObject({
      rules: [
        { rule_id: 'pattern.openai_key', reason: 'secret' },
        { rule_id: 'denylist.key', reason: 'secret' },
      ],
    });
    for (const record of records)
      expect(`${record.resourceJson}${record.scopeJson}`).not.toMatch(/sk-proj-|"abc"/);
  });
});
