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
