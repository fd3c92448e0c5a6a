import type { StepChange } from '@agentrace/schemas';

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The JSONPath of `key` under `path`: dotted when the key is a plain name, else bracketed and quoted. */
export function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return PLAIN_KEY.test(key)
    ? `${path}.${key}`
    : `${path}['${key.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}']`;
}

const compareAll = () => false;

/**
 * The leaf-level differences between two JSON values, in document order: objects are compared key by key
 * (except the keys `skip` names, at any depth) and arrays index by index; a side that lacks a key or an
 * index reads as null. Values of different kinds (an object and a string, say) are one change at their
 * common path.
 * @example jsonChanges({ status: 'ok' }, { status: 'error' }, '$') // [{ path: '$.status', a: 'ok', b: 'error' }]
 */
export function jsonChanges(
  a: unknown,
  b: unknown,
  path: string,
  skip: (key: string) => boolean = compareAll,
  out: StepChange[] = [],
): StepChange[] {
  if (a === b) return out;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      jsonChanges(a[i] ?? null, b[i] ?? null, childPath(path, i), skip, out);
    }
    return out;
  }
  if (isObject(a) && isObject(b)) {
    for (const key in a)
      if (!skip(key)) jsonChanges(a[key] ?? null, b[key] ?? null, childPath(path, key), skip, out);
    for (const key in b)
      if (!(key in a) && !skip(key)) jsonChanges(null, b[key] ?? null, childPath(path, key), skip, out);
    return out;
  }
  out.push({ path, a: withoutSkipped(a ?? null, skip), b: withoutSkipped(b ?? null, skip) });
  return out;
}

/** A JSON value without the object keys `skip` names, at any depth. */
export function withoutSkipped(value: unknown, skip: (key: string) => boolean): unknown {
  if (Array.isArray(value)) return value.map((item) => withoutSkipped(item, skip));
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const key in value) if (!skip(key)) out[key] = withoutSkipped(value[key], skip);
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
