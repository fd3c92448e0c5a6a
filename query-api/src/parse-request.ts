import { HttpError } from '@agentrace/schemas';
import type { z } from 'zod';

type RawQuery = Record<string, unknown>;

/**
 * Parses a query string with a strict zod schema: unknown or repeated parameters and bad values are a
 * 400 `invalid_argument` whose details name each offending parameter.
 */
export function parseQuery<S extends z.ZodType>(schema: S, raw: RawQuery, extra: Record<string, unknown> = {}): z.infer<S> {
  const details: Record<string, string> = {};
  const flat: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (Array.isArray(value)) details[key] = 'must be given once';
    else flat[key] = value;
  }
  const parsed = schema.safeParse({ ...flat, ...extra });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') for (const key of issue.keys) details[key] = 'unknown parameter';
      else details[issue.path.join('.') || 'query'] = issue.message;
    }
  }
  if (Object.keys(details).length > 0 || !parsed.success) {
    throw new HttpError('invalid_argument', `invalid query: ${Object.keys(details).join(', ')}`, details);
  }
  return parsed.data;
}

/** Splits `tag.<key>=<value>` parameters from the rest. */
export function splitTagFilters(raw: RawQuery): { rest: RawQuery; tags: Record<string, unknown> } {
  const rest: RawQuery = {};
  const tags: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key.startsWith('tag.') && key.length > 4) tags[key.slice(4)] = value;
    else rest[key] = value;
  }
  return { rest, tags };
}

/** Decodes an opaque cursor with `decode`, or a 400 that names the cursor. */
export function parseCursor<T>(cursor: string | undefined, decode: (c: string) => T | null): T | null {
  if (cursor === undefined) return null;
  const value = decode(cursor);
  if (value === null) throw new HttpError('invalid_argument', 'invalid cursor', { cursor: 'not a cursor from next_cursor' });
  return value;
}
