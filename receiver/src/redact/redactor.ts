import type { RedactionMeta } from '@agentrace/schemas';
import {
  DEFAULT_KEY_RULES,
  DEFAULT_PREFILTER,
  DEFAULT_VALUE_RULES,
  type KeyRule,
  type ValueRule,
} from './rules.ts';

export interface RedactorRules {
  keys: KeyRule[];
  values: ValueRule[];
  /** Cheap, non-global tests: a string that passes none of them is not run through the value rules. */
  prefilters: RegExp[];
}

export const DEFAULT_RULES: RedactorRules = {
  keys: DEFAULT_KEY_RULES,
  values: DEFAULT_VALUE_RULES,
  prefilters: [DEFAULT_PREFILTER],
};

/** Collects where secrets were replaced, without the secrets. */
export class RedactionLog {
  readonly paths: string[];
  private readonly ruleIds: Set<string>;

  /** A log that starts with what `inherited` holds (a resource's redactions, shared by its spans). */
  constructor(inherited?: RedactionLog) {
    this.paths = inherited ? [...inherited.paths] : [];
    this.ruleIds = new Set(inherited?.ruleIds);
  }

  record(path: string, ruleId: string): void {
    this.paths.push(path);
    this.ruleIds.add(ruleId);
  }

  /** The ids of the rules that fired so far. */
  ruleIdsSeen(): ReadonlySet<string> {
    return this.ruleIds;
  }

  toMeta(): RedactionMeta {
    return { paths: this.paths, rules: [...this.ruleIds].map((rule_id) => ({ rule_id, reason: 'secret' })) };
  }
}

const marker = (ruleId: string) => `[REDACTED:${ruleId}]`;
const SIMPLE_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const childPath = (path: string, key: string) =>
  SIMPLE_KEY.test(key) ? `${path}.${key}` : `${path}['${key.replace(/'/g, "\\'")}']`;

/** `X-API-Key`, `apiKey`, `HTTPAuthorization`, `db.password` → `x_api_key`, `api_key`, `http_authorization`, `db_password`. */
const normalizedKey = (key: string) =>
  key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[.\-\s]/g, '_');

// Attribute keys repeat across spans, so each rule set remembers its verdict per key (bounded: a sender
// inventing keys only costs a cache clear).
const keyVerdicts = new WeakMap<RedactorRules, Map<string, KeyRule | null>>();
const MAX_REMEMBERED_KEYS = 10_000;

/** The key rule that makes `key`'s value a secret, if any. */
function keyRuleOf(key: string, rules: RedactorRules): KeyRule | null {
  let verdicts = keyVerdicts.get(rules);
  if (!verdicts) {
    verdicts = new Map();
    keyVerdicts.set(rules, verdicts);
  }
  let rule = verdicts.get(key);
  if (rule === undefined) {
    const normalized = normalizedKey(key);
    rule = rules.keys.find((r) => r.pattern.test(normalized)) ?? null;
    if (verdicts.size >= MAX_REMEMBERED_KEYS) verdicts.clear();
    verdicts.set(key, rule);
  }
  return rule;
}

/**
 * Where a value sits, as JSONPath segments after a root path: built into text only when a secret is found
 * there, since on the ingest path almost nothing is (and a path per visited value cost more than the rules).
 */
type PathSegments = [root: string, ...steps: (string | number)[]];

function pathText(segments: PathSegments): string {
  let path = segments[0];
  for (let i = 1; i < segments.length; i++) {
    const step = segments[i]!;
    path = typeof step === 'number' ? `${path}[${step}]` : childPath(path, step);
  }
  return path;
}

/**
 * Returns `value` with secrets replaced by `[REDACTED:<rule_id>]`: whole values under secret-named keys,
 * and only the matched secret inside other strings. `path` is the JSONPath of `value` for the log.
 * Copy on write: what holds no secret is returned as it is (the same object), so do not mutate the result.
 */
export function redactValue(
  value: unknown,
  path: string,
  log: RedactionLog,
  rules: RedactorRules = DEFAULT_RULES,
): unknown {
  return redactAt(value, [path], log, rules);
}

function redactAt(value: unknown, at: PathSegments, log: RedactionLog, rules: RedactorRules): unknown {
  if (typeof value === 'string') return redactText(value, at, log, rules);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      at.push(i);
      const redacted = redactAt(value[i], at, log, rules);
      at.pop();
      if (redacted !== value[i]) {
        copy ??= value.slice();
        copy[i] = redacted;
      }
    }
    return copy ?? value;
  }
  const record = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(record)) {
    const v = record[key];
    at.push(key);
    const redacted = redactEntry(key, v, at, log, rules);
    at.pop();
    if (redacted !== v) {
      copy ??= { ...record };
      copy[key] = redacted;
    }
  }
  return copy ?? record;
}

/** One member of an object: its key may make its whole value a secret. */
function redactEntry(
  key: string,
  v: unknown,
  at: PathSegments,
  log: RedactionLog,
  rules: RedactorRules,
): unknown {
  const rule = typeof v === 'string' || Array.isArray(v) ? keyRuleOf(key, rules) : null;
  if (rule && typeof v === 'string' && v !== '') {
    log.record(pathText(at), rule.id);
    return marker(rule.id);
  }
  // OTel records captured HTTP headers (`http.request.header.authorization`) as string arrays.
  if (rule && Array.isArray(v) && v.every((s) => typeof s === 'string')) {
    const path = pathText(at);
    return v.map((s: string, i) => {
      if (s === '') return s;
      log.record(`${path}[${i}]`, rule.id);
      return marker(rule.id);
    });
  }
  return redactAt(v, at, log, rules);
}

/**
 * A string that holds a JSON object or array (tool arguments, messages) also gets the key rules inside
 * it: `{"password":"hunter2"}` is redacted as the object it is, and kept a string. The log names the
 * string's path, since a JSONPath cannot point inside a string.
 */
function redactText(text: string, at: PathSegments, log: RedactionLog, rules: RedactorRules): string {
  const json = hasSecretJsonKey(text, rules) ? jsonContainerIn(text) : undefined;
  if (json === undefined) return redactValueRules(text, at, log, rules);
  const inner = new RedactionLog();
  const redacted = redactAt(json, [pathText(at)], inner, rules);
  if (inner.paths.length === 0) return text;
  for (const ruleId of inner.ruleIdsSeen()) log.record(pathText(at), ruleId);
  return JSON.stringify(redacted);
}

// A quoted string followed by a colon, written as an unrolled loop (fast on long strings).
const JSON_KEY = /"([^"\\]*(?:\\.[^"\\]*)*)"\s*:/g;

/**
 * Whether `text` may be JSON with a key that a key rule matches: a scan of its `"key":` pairs, much
 * cheaper than parsing every message and argument string only to find nothing (the common case).
 */
function hasSecretJsonKey(text: string, rules: RedactorRules): boolean {
  if (!OPENS_JSON_CONTAINER.test(text)) return false;
  // exec on the one regex rather than matchAll, which copies it per call and allocates an iterator.
  JSON_KEY.lastIndex = 0;
  for (let match = JSON_KEY.exec(text); match !== null; match = JSON_KEY.exec(text)) {
    const quoted = match[1]!;
    if (keyRuleOf(quoted.includes('\\') ? unescapeJsonKey(quoted) : quoted, rules)) {
      JSON_KEY.lastIndex = 0;
      return true;
    }
  }
  return false;
}

const unescapeJsonKey = (quoted: string): string => {
  try {
    return JSON.parse(`"${quoted}"`) as string;
  } catch {
    return quoted;
  }
};

const OPENS_JSON_CONTAINER = /^\s*[[{]/;
const CLOSES_JSON_CONTAINER = /[\]}]\s*$/;

function jsonContainerIn(text: string): object | undefined {
  if (!OPENS_JSON_CONTAINER.test(text) || !CLOSES_JSON_CONTAINER.test(text)) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Replaces secrets inside one string (value rules only). */
export function redactString(
  text: string,
  path: string,
  log: RedactionLog,
  rules: RedactorRules = DEFAULT_RULES,
): string {
  return redactValueRules(text, [path], log, rules);
}

function passesPrefilter(text: string, rules: RedactorRules): boolean {
  for (const prefilter of rules.prefilters) if (prefilter.test(text)) return true;
  return false;
}

function redactValueRules(text: string, at: PathSegments, log: RedactionLog, rules: RedactorRules): string {
  if (!passesPrefilter(text, rules)) return text;
  let out = text;
  for (const rule of rules.values) {
    let hit = false;
    out = out.replace(rule.pattern, (match: string, ...groups: unknown[]) => {
      const secret = rule.group === 0 ? match : (groups[rule.group - 1] as string | undefined);
      if (!secret) return match;
      hit = true;
      return match.replace(secret, marker(rule.id));
    });
    if (hit) log.record(pathText(at), rule.id);
  }
  return out;
}
