import { describe, expect, it } from 'vitest';
import { RedactionLog, redactString, redactValue } from './redactor.ts';

const AWS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const PEM_BODY = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj';

const redacted = (text: string) => {
  const log = new RedactionLog();
  return { out: redactString(text, '$.x', log), rules: [...log.ruleIdsSeen()] };
};

describe('value rules beyond the token shapes', () => {
  it.each([
    [
      'under its label in a .env line',
      `aws_secret_access_key = ${AWS_SECRET}`,
      'aws_secret_access_key = [REDACTED:pattern.aws_secret_key]',
    ],
    [
      'under its upper-case variable',
      `export AWS_SECRET_ACCESS_KEY="${AWS_SECRET}"`,
      'export AWS_SECRET_ACCESS_KEY="[REDACTED:pattern.aws_secret_key]"',
    ],
    [
      'as JSON text from an STS answer',
      `{"SecretAccessKey": "${AWS_SECRET}"}`,
      '{"SecretAccessKey": "[REDACTED:pattern.aws_secret_key]"}',
    ],
  ])('replaces an AWS secret access key %s', (_label, text, expected) => {
    expect(redacted(text)).toEqual({ out: expected, rules: ['pattern.aws_secret_key'] });
  });

  it.each([
    [`${AWS_KEY_ID}:${AWS_SECRET}`, '[REDACTED:pattern.aws_access_key]:[REDACTED:pattern.aws_secret_key]'],
    [
      `creds ${AWS_KEY_ID} ${AWS_SECRET} ok`,
      'creds [REDACTED:pattern.aws_access_key] [REDACTED:pattern.aws_secret_key] ok',
    ],
    [
      `"${AWS_KEY_ID}", "${AWS_SECRET}"`,
      '"[REDACTED:pattern.aws_access_key]", "[REDACTED:pattern.aws_secret_key]"',
    ],
  ])('replaces an AWS secret key right after its access key id: %j', (text, expected) => {
    expect(redacted(text).out).toBe(expected);
  });

  it('leaves 40-character strings alone without an AWS context (a git commit id)', () => {
    const text = 'merged 3f786850e387550fdab836ed7e6dc881de23001b and wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY';
    expect(redacted(text)).toEqual({ out: text, rules: [] });
  });

  it('replaces a PEM private key cut off before its END line, up to the end of the text', () => {
    expect(redacted(`key:\n-----BEGIN PRIVATE KEY-----\n${PEM_BODY}`).out).toBe(
      'key:\n[REDACTED:pattern.private_key]',
    );
  });

  it('replaces an OpenSSH and a PGP private key block', () => {
    const ssh = `-----BEGIN OPENSSH PRIVATE KEY-----\n${PEM_BODY}\n-----END OPENSSH PRIVATE KEY-----`;
    const pgp = `-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n${PEM_BODY}\n-----END PGP PRIVATE KEY BLOCK-----`;
    expect(redacted(`${ssh} and ${pgp}`).out).toBe(
      '[REDACTED:pattern.private_key] and [REDACTED:pattern.private_key]',
    );
  });

  it.each([
    ['redis://:s3cr3t-Passw0rd@cache:6379/0', 'redis://:[REDACTED:pattern.url_password]@cache:6379/0'],
    [
      'amqp://guest:Zx9%40tr0ub4dor@mq.internal/vhost',
      'amqp://guest:[REDACTED:pattern.url_password]@mq.internal/vhost',
    ],
  ])('replaces the password of %s', (text, expected) => {
    expect(redacted(text).out).toBe(expected);
  });

  it.each([
    [
      'token ya29.a0AfB_byC3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5zA7bC9dE here',
      'token [REDACTED:pattern.google_oauth] here',
    ],
    ['client_secret=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', 'client_secret=[REDACTED:pattern.google_oauth]'],
  ])('replaces a Google OAuth token or client secret: %j', (text, expected) => {
    expect(redacted(text)).toEqual({ out: expected, rules: ['pattern.google_oauth'] });
  });

  it('takes a lower-case bearer scheme with a token-shaped credential', () => {
    expect(redacted('authorization: bearer 8f2c1e9a7b3d4c5e6f70').out).toBe(
      'authorization: bearer [REDACTED:pattern.bearer]',
    );
  });

  it.each([
    'Basic troubleshooting steps come first.',
    'The basic configuration is enough.',
    'payable to the bearer instrument holder',
  ])('does not take an English word after basic or bearer for a credential: %j', (text) => {
    expect(redacted(text)).toEqual({ out: text, rules: [] });
  });
});

describe('key rules on the key names producers use', () => {
  it.each([
    'apiKey',
    'secretAccessKey',
    'SecretAccessKey',
    'clientSecret',
    'sessionToken',
    'HTTPAuthorization',
    'x-api-key',
  ])('replaces the value under %j', (key) => {
    const log = new RedactionLog();
    expect(redactValue({ [key]: 'some-value' }, '$', log)).toEqual({ [key]: '[REDACTED:denylist.key]' });
  });

  it.each(['maxTokens', 'tokenCount', 'totalTokens', 'keyId', 'passwordPolicy'])(
    'keeps the value under %j',
    (key) => {
      const log = new RedactionLog();
      expect(redactValue({ [key]: 'some-value' }, '$', log)).toEqual({ [key]: 'some-value' });
    },
  );
});

describe('strings that hold JSON (tool arguments, messages)', () => {
  it('applies the key rules inside and keeps the value a string of JSON', () => {
    const log = new RedactionLog();
    const args = JSON.stringify({
      url: 'https://db.internal',
      password: 'hunter2-correct-horse',
      nested: { apiKey: 'k-123' },
    });
    const out = redactValue({ 'gen_ai.tool.call.arguments': args }, '$.payload.attributes', log) as Record<
      string,
      string
    >;
    expect(JSON.parse(out['gen_ai.tool.call.arguments']!)).toEqual({
      url: 'https://db.internal',
      password: '[REDACTED:denylist.key]',
      nested: { apiKey: '[REDACTED:denylist.key]' },
    });
    expect(log.toMeta()).toEqual({
      paths: ["$.payload.attributes['gen_ai.tool.call.arguments']"],
      rules: [{ rule_id: 'denylist.key', reason: 'secret' }],
    });
  });

  it('finds a secret key written with JSON escapes', () => {
    const log = new RedactionLog();
    const out = redactValue('{"pass\\u0077ord":"hunter2-x"}', '$.a', log) as string;
    expect(JSON.parse(out)).toEqual({ password: '[REDACTED:denylist.key]' });
  });

  it('keeps a JSON string without secrets byte for byte', () => {
    const log = new RedactionLog();
    const text = '{ "q": "otel",  "limit": 5 }';
    expect(redactValue(text, '$.a', log)).toBe(text);
    expect(log.paths).toEqual([]);
  });

  it('falls back to the value rules for text that only looks like JSON', () => {
    const log = new RedactionLog();
    expect(redactValue(`{not json, ${AWS_KEY_ID}}`, '$.a', log)).toBe(
      '{not json, [REDACTED:pattern.aws_access_key]}',
    );
  });
});
