import { hash } from 'node:crypto';

/**
 * JSON with object keys sorted at every level, so equal payloads hash equal whatever their key order.
 * Hand-written because JSON.stringify has no key order and this runs once per ingested span; members
 * that JSON.stringify leaves out (undefined) are left out, and array holes become null, as it does.
 */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'object':
      if (value === null) return 'null';
      return Array.isArray(value) ? arrayJson(value) : objectJson(value as Record<string, unknown>);
    default:
      return JSON.stringify(value) ?? 'null';
  }
}

function arrayJson(values: readonly unknown[]): string {
  let out = '[';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ',';
    const item = values[i];
    out += item === undefined ? 'null' : canonicalJson(item);
  }
  return `${out}]`;
}

function objectJson(record: Record<string, unknown>): string {
  const keys = Object.keys(record).sort();
  let out = '{';
  for (const key of keys) {
    const member = record[key];
    if (member === undefined) continue;
    if (out.length > 1) out += ',';
    out += `${quotedKey(key)}:${canonicalJson(member)}`;
  }
  return `${out}}`;
}

// Payload keys repeat from span to span (attribute names, input, output, ...): quote each once. Bounded,
// so a sender inventing keys only costs a cache clear.
const quoted = new Map<string, string>();
const MAX_QUOTED_KEYS = 10_000;

function quotedKey(key: string): string {
  let text = quoted.get(key);
  if (text === undefined) {
    text = JSON.stringify(key);
    if (quoted.size >= MAX_QUOTED_KEYS) quoted.clear();
    quoted.set(key, text);
  }
  return text;
}

/**
 * `sha256:` + hex of the text, the form of `payload_hash`. One-shot `hash` (Node 20.12+) rather than a
 * Hash object per call: half the time on a span's payload (2.4 vs 4.5 us on 800 characters).
 */
export const sha256Tagged = (text: string): string => `sha256:${hash('sha256', text, 'hex')}`;
