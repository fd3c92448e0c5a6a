import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.ts';

/** `items` with `value` set at `index`, past the end: the indexes between are holes. */
const withHole = (items: unknown[], index: number, value: unknown) =>
  Object.assign(items, { [index]: value });

describe('canonicalJson', () => {
  it.each([
    [
      'sorts keys at every level',
      { b: 1, a: { d: [{ z: 1, y: 2 }], c: null } },
      '{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}',
    ],
    ['leaves out undefined members, as JSON.stringify does', { a: undefined, b: 1 }, '{"b":1}'],
    ['writes undefined array items and holes as null', withHole([undefined, 1], 3, 2), '[null,1,null,2]'],
    ['escapes keys and strings', { 'k"\n': 'v\\"\u2028' }, JSON.stringify({ 'k"\n': 'v\\"\u2028' })],
    [
      'writes non-finite numbers as null',
      [Number.NaN, Number.POSITIVE_INFINITY, -0, 1e21],
      '[null,null,0,1e+21]',
    ],
    ['keeps an empty object and array', { a: {}, b: [] }, '{"a":{},"b":[]}'],
    ['writes a bare scalar', 'x', '"x"'],
  ])('%s', (_, value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it('gives equal text for equal documents whatever their key order, and the same document back', () => {
    const a = {
      input: { messages: [{ role: 'user', content: 'hi' }] },
      attributes: { 'gen_ai.system': 'openai', n: 2 },
    };
    const b = {
      attributes: { n: 2, 'gen_ai.system': 'openai' },
      input: { messages: [{ content: 'hi', role: 'user' }] },
    };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(JSON.parse(canonicalJson(a))).toEqual(a);
  });

  it('quotes a key the same way after it was seen many times', () => {
    for (let i = 0; i < 20_000; i++) canonicalJson({ [`k${i}`]: i });
    expect(canonicalJson({ 'a"b': 1 })).toBe('{"a\\"b":1}');
  });
});
