import { describe, expect, it } from 'vitest';
import { evaluatePolicy, PolicyDocument, toolMatches, valueAt } from './policy.ts';

const doc = PolicyDocument.parse({
  default: 'require_approval',
  rules: [
    { id: 'no-drop', tool: 'db.drop_*', effect: 'block', reason: 'never drop tables' },
    { id: 'small-refund', tool: 'refund', args: [{ path: '$.amount', op: 'lte', value: 50 }], effect: 'allow' },
    { id: 'big-refund', tool: 'refund', args: [{ path: '$.amount', op: 'gt', value: 1000 }], effect: 'block' },
    {
      id: 'internal-mail',
      tool: 'send_email',
      args: [{ path: '$.to[0]', op: 'matches', pattern: '@example\\.com$' }],
      effect: 'allow',
    },
    { id: 'prod-delete', tool: 'delete_*', tags: { env: ['prod', 'staging'] }, effect: 'block' },
    { id: 'dev-delete', tool: 'delete_?ile', tags: { env: 'dev' }, effect: 'allow' },
    { id: 'eu', tool: 'transfer', args: [{ path: '$.dest.region', op: 'in', values: ['eu', 'uk'] }], effect: 'allow' },
    { id: 'dry', tool: 'transfer', args: [{ path: '$.dry_run', op: 'equals', value: true }], effect: 'allow' },
    { id: 'read', tool: 'search', effect: 'allow' },
  ],
});

describe('evaluatePolicy', () => {
  it.each([
    ['db.drop_table', {}, {}, 'block', 'no-drop'],
    ['db.drop', {}, {}, 'require_approval', null],
    ['refund', { amount: 20 }, {}, 'allow', 'small-refund'],
    ['refund', { amount: 50 }, {}, 'allow', 'small-refund'],
    ['refund', { amount: 500 }, {}, 'require_approval', null],
    ['refund', { amount: 5000 }, {}, 'block', 'big-refund'],
    ['refund', { amount: '20' }, {}, 'require_approval', null],
    ['refund', {}, {}, 'require_approval', null],
    ['send_email', { to: ['ops@example.com'] }, {}, 'allow', 'internal-mail'],
    ['send_email', { to: ['ops@example.com.evil'] }, {}, 'require_approval', null],
    ['send_email', { to: [] }, {}, 'require_approval', null],
    ['delete_file', {}, { env: 'prod' }, 'block', 'prod-delete'],
    ['delete_file', {}, { env: 'staging' }, 'block', 'prod-delete'],
    ['delete_file', {}, { env: 'dev' }, 'allow', 'dev-delete'],
    ['delete_pile', {}, { env: 'dev' }, 'allow', 'dev-delete'],
    ['delete_files', {}, { env: 'dev' }, 'require_approval', null],
    ['delete_file', {}, {}, 'require_approval', null],
    ['transfer', { dest: { region: 'uk' } }, {}, 'allow', 'eu'],
    ['transfer', { dest: { region: 'us' } }, {}, 'require_approval', null],
    ['transfer', { dest: 'eu' }, {}, 'require_approval', null],
    ['transfer', { dry_run: true }, {}, 'allow', 'dry'],
    ['transfer', { dry_run: 'true' }, {}, 'require_approval', null],
    ['search', { q: 'x' }, {}, 'allow', 'read'],
    ['Search', {}, {}, 'require_approval', null],
  ])('%s %j with tags %j: %s by %s', (toolName, args, tags, effect, ruleId) => {
    expect(evaluatePolicy(doc, { toolName, args, tags })).toMatchObject({ effect, ruleId });
  });

  it('gives the matching rule its reason', () => {
    expect(evaluatePolicy(doc, { toolName: 'db.drop_x', args: {}, tags: {} }).reason).toBe('never drop tables');
  });
});

describe('toolMatches and valueAt', () => {
  it.each([
    ['a.b', 'a.b', true],
    ['a.b', 'aXb', false],
    ['a*', 'a', true],
    ['*', 'anything', true],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['x(y)*', 'x(y)z', true],
  ])('%s matches %s: %s', (pattern, name, want) => {
    expect(toolMatches(pattern, name)).toBe(want);
  });

  it.each([
    ['$', { a: 1 }, { a: 1 }],
    ['$.a.b[1]', { a: { b: [0, 7] } }, 7],
    ['$.a[0]', { a: {} }, undefined],
    ['$.constructor', {}, undefined],
  ])('%s of %j is %j', (path, root, want) => {
    const got = valueAt(root, path);
    expect(typeof got === 'symbol' ? undefined : got).toEqual(want);
  });
});

describe('PolicyDocument', () => {
  it.each([
    [{ default: 'allow', rules: [] }, true],
    [{ default: 'maybe', rules: [] }, false],
    [{ default: 'allow', rules: [{ id: 'a', tool: 't', effect: 'allow' }, { id: 'a', tool: 'u', effect: 'block' }] }, false],
    [{ default: 'allow', rules: [{ id: 'a', tool: 't', effect: 'allow', args: [{ path: 'amount', op: 'equals', value: 1 }] }] }, false],
    [{ default: 'allow', rules: [{ id: 'a', tool: 't', effect: 'allow', args: [{ path: '$.x', op: 'matches', pattern: '(' }] }] }, false],
    [{ default: 'allow', rules: [{ id: 'a', tool: 't', effect: 'allow', args: [{ path: '$.x', op: 'gt', value: '3' }] }] }, false],
    [{ default: 'allow', rules: [{ id: 'a', tool: 't', effect: 'allow', extra: 1 }] }, false],
  ])('%j valid: %s', (input, valid) => {
    expect(PolicyDocument.safeParse(input).success).toBe(valid);
  });
});
