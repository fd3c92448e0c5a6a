import type { AttrValue, Attributes } from '../otlp/decoded.ts';

/** A non-empty string attribute (numbers and booleans are rendered), or undefined. */
export function str(attrs: Attributes, key: string): string | undefined {
  const v = attrs[key];
  if (typeof v === 'string') return v === '' ? undefined : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/** A finite number attribute (also from a numeric string: senders differ), or undefined. */
export function num(attrs: Attributes, key: string): number | undefined {
  const v = attrs[key];
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** The first of `keys` that holds a string. */
export function firstStr(attrs: Attributes, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const v = str(attrs, key);
    if (v !== undefined) return v;
  }
  return undefined;
}

/** The first of `keys` that holds a number. */
export function firstNum(attrs: Attributes, ...keys: string[]): number | undefined {
  for (const key of keys) {
    const v = num(attrs, key);
    if (v !== undefined) return v;
  }
  return undefined;
}

/**
 * A structured value from an attribute that may carry it either structured (array/kvlist) or as a JSON
 * string (both are common for message attributes); a string that is not JSON stays a string.
 */
export function structured(attrs: Attributes, key: string): AttrValue | undefined {
  const v = attrs[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') return v;
  const t = v.trim();
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      return JSON.parse(t) as AttrValue;
    } catch {
      return v;
    }
  }
  return v;
}

/** A JSON object (not an array, not null). */
export const isObject = (v: AttrValue | undefined): v is Attributes =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A structured attribute that is an object (a kvlist, or a JSON object string), or undefined. */
export function structuredObject(attrs: Attributes, key: string): Attributes | undefined {
  const v = structured(attrs, key);
  return isObject(v) ? v : undefined;
}

/** Attributes under `prefix`, with the prefix removed from their keys, as strings. */
export function withPrefix(attrs: Attributes, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key in attrs) {
    if (key.startsWith(prefix)) {
      const v = str(attrs, key);
      if (v !== undefined) out[key.slice(prefix.length)] = v;
    }
  }
  return out;
}

/** Drops the undefined fields, so that merging "first mapper wins" sees only what a mapper said. */
export function defined<T extends object>(fields: T): Partial<T> {
  const out: Partial<T> = {};
  for (const key in fields) if (fields[key] !== undefined) out[key] = fields[key];
  return out;
}

/**
 * Rebuilds a list flattened into indexed keys (`prefix.0.role`, `prefix.0.tool_calls.1.id`, …): numeric
 * segments become array positions (in index order, gaps closed), the others object keys. Keys under
 * `prefix` whose next segment is not an index (`gen_ai.prompt.name`) are not part of the list.
 * @example indexedList({ 'p.0.role': 'user', 'p.0.content': 'hi' }, 'p') // [{ role: 'user', content: 'hi' }]
 */
export function indexedList(attrs: Attributes, prefix: string): AttrValue[] | undefined {
  const head = `${prefix}.`;
  const root: Attributes = {};
  // Nodes built here; a structured value met on the way is copied before keys are added to it.
  const built = new WeakSet<Attributes>([root]);
  for (const key in attrs) {
    const value = attrs[key];
    if (!key.startsWith(head) || value === undefined || value === null) continue;
    const path = key.slice(head.length).split('.');
    if (!INDEX.test(path[0]!)) continue;
    let node = root;
    for (const segment of path.slice(0, -1)) {
      const next = node[segment];
      if (!isObject(next) || !built.has(next)) {
        const fresh: Attributes = isObject(next) ? { ...next } : {};
        built.add(fresh);
        node[segment] = fresh;
      }
      node = node[segment] as Attributes;
    }
    node[path[path.length - 1]!] = value;
  }
  return Object.keys(root).length > 0 ? (listsOf(root) as AttrValue[]) : undefined;
}

const INDEX = /^\d+$/;

/** Objects whose keys are all indexes become arrays in index order, at every level. */
function listsOf(value: AttrValue): AttrValue {
  if (!isObject(value)) return value;
  const keys = Object.keys(value);
  const out: Attributes = {};
  for (const key of keys) out[key] = listsOf(value[key]!);
  if (keys.length === 0 || !keys.every((k) => INDEX.test(k))) return out;
  return keys.sort((a, b) => Number(a) - Number(b)).map((k) => out[k]!);
}
