import { describe, expect, it } from 'vitest';
import { childPath, jsonChanges, withoutSkipped } from './json-changes.ts';

describe('childPath', () => {
  it.each([
    ['$', 'payload', '$.payload'],
    ['$.payload', 'gen_ai.request.model', "$.payload['gen_ai.request.model']"],
    ['$.payload', "it's", "$.payload['it\\'s']"],
    ['$.payload.events', 2, '$.payload.events[2]'],
    ['$', '_x1', '$._x1'],
  ])('%s + %j is %s', (path, key, expected) => expect(childPath(path, key)).toBe(expected));
});

describe('jsonChanges', () => {
  it.each<[string, unknown, unknown, { path: string; a: unknown; b: unknown }[]]>([
    ['equal objects', { a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 }, []],
    ['a changed scalar', { status: 'ok' }, { status: 'error' }, [{ path: '$.status', a: 'ok', b: 'error' }]],
    [
      'a nested text',
      { payload: { output: { text: 'hi' } } },
      { payload: { output: { text: 'hello' } } },
      [{ path: '$.payload.output.text', a: 'hi', b: 'hello' }],
    ],
    ['a key only in b', { x: 1 }, { x: 1, y: { z: 2 } }, [{ path: '$.y', a: null, b: { z: 2 } }]],
    ['a key only in a', { x: 1, y: 2 }, { x: 1 }, [{ path: '$.y', a: 2, b: null }]],
    ['a longer array', { m: [1, 2] }, { m: [1, 2, 3] }, [{ path: '$.m[2]', a: null, b: 3 }]],
    [
      'values of different kinds',
      { error: null },
      { error: { type: 'timeout' } },
      [{ path: '$.error', a: null, b: { type: 'timeout' } }],
    ],
    [
      'a dotted attribute key',
      { attributes: { 'gen_ai.request.model': 'gpt-4o' } },
      { attributes: { 'gen_ai.request.model': 'gpt-4o-mini' } },
      [{ path: "$.attributes['gen_ai.request.model']", a: 'gpt-4o', b: 'gpt-4o-mini' }],
    ],
  ])('reports %s', (_, a, b, expected) => expect(jsonChanges(a, b, '$')).toEqual(expected));
});

describe('skipping keys', () => {
  const skip = (key: string) => key === 'id' || key === 'ts';
  it('ignores skipped keys at any depth, inside arrays too', () => {
    const a = { input: { id: 'x', q: 'otel' }, events: [{ name: 'e', ts: '1' }] };
    const b = { input: { id: 'y', q: 'otel' }, events: [{ name: 'e', ts: '2' }] };
    expect(jsonChanges(a, b, '$', skip)).toEqual([]);
  });
  it('reports a changed subtree without its skipped keys', () => {
    expect(jsonChanges({ x: null }, { x: { id: 1, q: [{ ts: 1, v: 2 }] } }, '$', skip)).toEqual([
      { path: '$.x', a: null, b: { q: [{ v: 2 }] } },
    ]);
    expect(withoutSkipped([{ id: 1 }, 3], skip)).toEqual([{}, 3]);
  });
});
