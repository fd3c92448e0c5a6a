import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, RedactionLog, type RedactorRules, redactString, redactValue } from './redactor.ts';

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const JWT = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ sub: '1234567890', name: 'Ada' })}.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c`;
const PEM = [
  '-----BEGIN RSA PRIVATE KEY-----',
  'MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun',
  'VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK',
  '-----END RSA PRIVATE KEY-----',
].join('\n');

// [shape, text before, the secret, text after, rule id]
const SECRETS: [string, string, string, string, string][] = [
  ['a bearer token', 'Authorization: Bearer ', 'abcdefghijklmnop1234', ' (sent)', 'pattern.bearer'],
  ['basic credentials', 'Authorization: Basic ', 'dXNlcjpodW50ZXIyc2VjcmV0', '', 'pattern.bearer'],
  [
    'an OpenAI project key',
    'OPENAI_API_KEY=',
    `sk-proj-${'Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6kM9n'}`,
    ' in .env',
    'pattern.openai_key',
  ],
  ['an OpenAI legacy key', 'key "', `sk-${'T3BlbkFJ'.repeat(6)}`, '" leaked', 'pattern.openai_key'],
  [
    'an Anthropic key',
    'x-api-key: ',
    `sk-ant-api03-${'aB9_cD8-eF7gH6iJ5kL4mN3oP2qR1sT0'.repeat(3)}AA`,
    ' was used',
    'pattern.anthropic_key',
  ],
  [
    'a Google API key',
    'https://example.com/maps?key=',
    `AIza${'SyD3f9K2mN5pQ8sT1vW4yZ7bC0eF3hJ6kM9'}`,
    '&q=paris',
    'pattern.google_key',
  ],
  [
    'an AWS access key id',
    'aws_access_key_id = ',
    'AKIAIOSFODNN7EXAMPLE',
    ' # prod',
    'pattern.aws_access_key',
  ],
  [
    'a GitHub token',
    'git clone with ',
    `ghp_${'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8'}`,
    ' now',
    'pattern.github_token',
  ],
  [
    'a fine-grained GitHub token',
    'GH=',
    `github_pat_${'11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGH'}`,
    '',
    'pattern.github_token',
  ],
  ['a JWT', 'cookie value was ', JWT, ' yesterday', 'pattern.jwt'],
  ['a PEM private key block', 'here is the key:\n', PEM, '\nkeep it safe', 'pattern.private_key'],
  ['a password in a URL', 'postgres://user:', 'hunter2secret', '@db:5432/x', 'pattern.url_password'],
  [
    'an agentrace key',
    'AGENTRACE_INGEST_KEY=',
    `art_${'Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5'.slice(0, 43)}`,
    '',
    'pattern.agentrace_key',
  ],
];

describe('redactString: secret shapes inside free text', () => {
  it.each(SECRETS)('replaces %s and keeps the text around it', (_label, before, secret, after, ruleId) => {
    const log = new RedactionLog();
    const out = redactString(`${before}${secret}${after}`, '$.payload.output', log);
    expect(out).toBe(`${before}[REDACTED:${ruleId}]${after}`);
    expect(out).not.toContain(secret);
    expect(log.toMeta()).toEqual({
      paths: ['$.payload.output'],
      rules: [{ rule_id: ruleId, reason: 'secret' }],
    });
  });

  it('replaces every secret of a string, each with its own rule', () => {
    const aws = 'AKIAIOSFODNN7EXAMPLE';
    const bearer = 'abcdefghijklmnop1234';
    const log = new RedactionLog();
    const out = redactString(`first ${aws}, then Bearer ${bearer}, again ${aws}.`, '$.x', log);
    expect(out).toBe(
      'first [REDACTED:pattern.aws_access_key], then Bearer [REDACTED:pattern.bearer], again [REDACTED:pattern.aws_access_key].',
    );
    expect(
      log
        .toMeta()
        .rules.map((r) => r.rule_id)
        .sort(),
    ).toEqual(['pattern.aws_access_key', 'pattern.bearer']);
    expect(JSON.stringify(log.toMeta())).not.toContain(aws);
  });

  it.each([
    'The model replied in 42 tokens.',
    'risk-assessment-for-the-quarterly-report',
    'sk-short',
    'Bearer abc',
    'see https://example.com/path?a=1',
    'AKIA is a prefix, AKIAshort is not a key',
    '',
  ])('leaves ordinary text alone: %j', (text) => {
    const log = new RedactionLog();
    expect(redactString(text, '$.x', log)).toBe(text);
    expect(log.toMeta()).toEqual({ paths: [], rules: [] });
  });
});

describe('redactValue: key-name rules', () => {
  it.each([
    ['authorization', 'Token abcdef'],
    ['Authorization', 'whatever-it-is'],
    ['api_key', 'plain-looking-value'],
    ['apiKey', 'plain-looking-value'],
    ['x-api-key', 'mysecretkey123'],
    ['X-API-Key', 'mysecretkey123'],
    ['password', 'hunter2'],
    ['db.password', 'hunter2'],
    ['cookie', 'session=abc123; theme=dark'],
    ['set-cookie', 'session=abc123'],
    ['http.request.header.authorization', 'Token abcdef'],
    ['client_secret', 'abc'],
    ['access_token', 'ya29.abc'],
    ['refresh-token', 'r1'],
    ['token', 'abc'],
  ])('replaces the whole string value of %j', (key, value) => {
    const log = new RedactionLog();
    const out = redactValue({ [key]: value, other: 'kept' }, '$.payload.attributes', log);
    expect(out).toEqual({ [key]: '[REDACTED:denylist.key]', other: 'kept' });
    expect(log.toMeta().rules).toEqual([{ rule_id: 'denylist.key', reason: 'secret' }]);
    expect(log.paths).toHaveLength(1);
    expect(log.paths[0]).toContain(key);
  });

  it.each([
    // OTel records captured HTTP headers as string arrays (http.request.header.<name>).
    ['http.request.header.authorization', ['Token abcdef']],
    ['http.request.header.x-api-key', ['mysecretkey123']],
    ['http.response.header.set-cookie', ['session=abc123', 'theme=dark']],
  ])('replaces every string of a string-array value of %j', (key, values) => {
    const log = new RedactionLog();
    const out = redactValue({ [key]: values }, '$.payload.attributes', log) as Record<string, unknown>;
    expect(out[key]).toEqual(values.map(() => '[REDACTED:denylist.key]'));
    expect(JSON.stringify(out)).not.toMatch(/abcdef|mysecretkey123|abc123/);
    expect(log.paths).toEqual(values.map((_, i) => `$.payload.attributes['${key}'][${i}]`));
  });

  it.each([
    ['gen_ai.usage.input_tokens', '1200'],
    ['gen_ai.usage.output_tokens', '300'],
    ['llm.token_count.prompt', '42'],
    ['llm.token_count.total', '99'],
    ['max_tokens', '256'],
    ['gen_ai.request.max_tokens', '1024'],
    ['agentrace.decision.token_id', 'dt_8f3a2c'],
    ['tokenizer', 'cl100k_base'],
    ['password_min_length', '12'],
    ['secret_santa', 'Bob'],
  ])('does not redact %j', (key, value) => {
    const log = new RedactionLog();
    expect(redactValue({ [key]: value }, '$', log)).toEqual({ [key]: value });
    expect(log.paths).toEqual([]);
  });

  it('leaves an empty string under a secret key alone and records nothing', () => {
    const log = new RedactionLog();
    expect(redactValue({ password: '' }, '$', log)).toEqual({ password: '' });
    expect(log.paths).toEqual([]);
  });

  it('records JSONPaths, bracketed for keys that are not identifiers', () => {
    const log = new RedactionLog();
    redactValue(
      {
        input: { headers: { authorization: 'x' } },
        attributes: { 'http.request.header.cookie': 'c=1' },
        list: ['Bearer abcdefghijklmnop'],
      },
      '$.payload',
      log,
    );
    expect(log.paths).toEqual([
      '$.payload.input.headers.authorization',
      "$.payload.attributes['http.request.header.cookie']",
      '$.payload.list[0]',
    ]);
  });

  it('finds secrets at any depth and leaves non-string values alone', () => {
    const secret = 'AKIAIOSFODNN7EXAMPLE';
    const log = new RedactionLog();
    const out = redactValue({ a: [{ b: { c: `id ${secret}` } }], n: 1, t: true, z: null }, '$', log);
    expect(out).toEqual({
      a: [{ b: { c: 'id [REDACTED:pattern.aws_access_key]' } }],
      n: 1,
      t: true,
      z: null,
    });
    expect(log.paths).toEqual(['$.a[0].b.c']);
  });

  it('uses the rules it is given instead of the defaults', () => {
    const rules: RedactorRules = {
      keys: [{ id: 'custom.key', pattern: /(^|_)ssn$/ }],
      values: [{ id: 'custom.employee', pattern: /\bEMP-(\d{6})\b/g, group: 1 }],
      prefilters: [/EMP-/],
    };
    const log = new RedactionLog();
    const out = redactValue(
      { ssn: '123-45-6789', note: 'badge EMP-123456 ok', password: 'hunter2' },
      '$',
      log,
      rules,
    );
    expect(out).toEqual({
      ssn: '[REDACTED:custom.key]',
      note: 'badge EMP-[REDACTED:custom.employee] ok',
      password: 'hunter2',
    });
    expect(log.toMeta().rules.map((r) => r.rule_id)).toEqual(['custom.key', 'custom.employee']);
  });

  it('exports the default rules it uses when none are given', () => {
    const a = new RedactionLog();
    const b = new RedactionLog();
    const value = { password: 'x', note: 'Bearer abcdefghijklmnop' };
    expect(redactValue(value, '$', a)).toEqual(redactValue(value, '$', b, DEFAULT_RULES));
  });
});
