import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted at every level, so equal payloads hash equal whatever their key order.
 * Hand-written because JSON.stringify has no key order and this runs once per ingested span.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i > 0 ? ',' : '') + canonicalJson(value[i] === undefined ? null : value[i]);
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).filter((k) => record[k] !== undefined).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    out += `${i > 0 ? ',' : ''}${JSON.stringify(key)}:${canonicalJson(record[key])}`;
  }
  return `${out}}`;
}

/** `sha256:` + hex of the text, the form of `payload_hash`. */
export const sha256Tagged = (text: string): string => `sha256:${createHash('sha256').update(text).digest('hex')}`;
