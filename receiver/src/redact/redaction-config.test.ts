import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRedactionRules } from './redaction-config.ts';
import { DEFAULT_RULES, RedactionLog, redactValue } from './redactor.ts';

const dir = mkdtempSync(join(tmpdir(), 'agentrace-redaction-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';

const YAML_CONFIG = `
# JWTs here are test fixtures, not credentials
disable: [pattern.jwt]
keys:
  - id: custom.ssn
    pattern: "(^|_)ssn$"
values:
  - id: custom.employee
    pattern: "EMP-(\\\\d{6})"
    group: 1
  - id: custom.ticket
    pattern: "vault:[a-z0-9]+"
    flags: i
`;

describe('loadRedactionRules', () => {
  it('gives the defaults without a file', () => {
    expect(loadRedactionRules(undefined)).toBe(DEFAULT_RULES);
  });

  it.each([
    ['YAML', 'rules.yaml', YAML_CONFIG],
    [
      'JSON',
      'rules.json',
      JSON.stringify({
        disable: ['pattern.jwt'],
        keys: [{ id: 'custom.ssn', pattern: '(^|_)ssn$' }],
        values: [
          { id: 'custom.employee', pattern: 'EMP-(\\d{6})', group: 1 },
          { id: 'custom.ticket', pattern: 'vault:[a-z0-9]+', flags: 'i' },
        ],
      }),
    ],
  ])('reads %s: a disabled rule no longer redacts, added key and value rules do', (_format, name, text) => {
    const rules = loadRedactionRules(file(name, text));
    const log = new RedactionLog();
    const out = redactValue(
      {
        user_ssn: '123-45-6789',
        note: `badge EMP-123456, see VAULT:Ab12`,
        session: JWT,
        password: 'still-redacted',
      },
      '$',
      log,
      rules,
    );
    expect(out).toEqual({
      user_ssn: '[REDACTED:custom.ssn]',
      note: 'badge EMP-[REDACTED:custom.employee], see [REDACTED:custom.ticket]',
      session: JWT,
      password: '[REDACTED:denylist.key]',
    });
    expect(rules.values.map((r) => r.id)).not.toContain('pattern.jwt');
  });

  it('accepts an empty file as "no changes"', () => {
    const rules = loadRedactionRules(file('empty.yaml', '# nothing yet\n'));
    expect(rules.keys).toEqual(DEFAULT_RULES.keys);
    expect(rules.values).toEqual(DEFAULT_RULES.values);
  });

  it.each([
    [
      'an invalid regular expression',
      'values:\n  - id: bad\n    pattern: "(unclosed"\n',
      'values.0.pattern: invalid regular expression',
    ],
    [
      'an unknown default rule to disable',
      'disable: [pattern.jwtt]\n',
      'disable.0: no default rule "pattern.jwtt"',
    ],
    ['an unknown field', 'value: []\n', 'Unrecognized key: "value"'],
    [
      'a capture group that does not exist',
      'values:\n  - {id: x, pattern: "EMP-\\\\d+", group: 1}\n',
      'values.0.pattern: has 0 capture group(s)',
    ],
    [
      'a pattern that matches the empty string',
      'values:\n  - {id: x, pattern: "a*"}\n',
      'values.0.pattern: must not match the empty string',
    ],
    [
      'a rule id that is taken',
      'keys:\n  - {id: pattern.bearer, pattern: "x$"}\n',
      'keys.0.id: "pattern.bearer" is already a rule id',
    ],
    [
      'a global or sticky flag',
      'values:\n  - {id: x, pattern: "abc", flags: g}\n',
      'values.0.flags: only i, m, s and u',
    ],
    ['a YAML syntax error', 'keys: [\n', 'redaction file'],
  ])('refuses %s, naming the file and the problem', (_label, text, problem) => {
    const path = file(`bad-${Math.random().toString(36).slice(2)}.yaml`, text);
    expect(() => loadRedactionRules(path)).toThrow(path);
    expect(() => loadRedactionRules(path)).toThrow(problem);
  });

  it('refuses a file that does not exist, naming it', () => {
    expect(() => loadRedactionRules(join(dir, 'missing.yaml'))).toThrow(/missing\.yaml: ENOENT/);
  });
});
