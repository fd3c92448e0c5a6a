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
 * Returns `value` with secrets replaced by `[REDACTED:<rule_id>]`: whole values under secret-named keys,
 * and only the matched secret inside other strings. `path` is the JSONPath of `value` for the log.
 */
export function redactValue(
  value: unknown,
  path: string,
  log: RedactionLog,
  rules: RedactorRules = DEFAULT_RULES,
): unknown {
  if (typeof value === 'string') return redactText(value, path, log, rules);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v, i) => redactValue(v, `${path}[${i}]`, log, rules));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const p = childPath(path, key);
    const rule = typeof v === 'string' || Array.isArray(v) ? keyRuleOf(key, rules) : null;
    if (rule && typeof v === 'string' && v !== '') {
      out[key] = marker(rule.id);
      log.record(p, rule.id);
    } else if (
      // OTel records captured HTTP headers (`http.request.header.authorization`) as string arrays.
      rule &&
      Array.isArray(v) &&
      v.every((s) => typeof s === 'string')
    ) {
      out[key] = v.map((s: string, i) => {
        if (s === '') return s;
        log.record(`${p}[${i}]`, rule.id);
        return marker(rule.id);
      });
    } else {
      out[key] = redactValue(v, p, log, rules);
    }
  }
  return out;
}

/**
 * A string that holds a JSON object or array (tool arguments, messages) also gets the key rules inside
 * it: `{"password":"hunter2"}` is redacted as the object it is, and kept a string. The log names the
 * string's path, since a JSONPath cannot point inside a string.
 */
function redactText(text: string, path: string, log: RedactionLog, rules: RedactorRules): string {
  const json = hasSecretJsonKey(text, rules) ? jsonContainerIn(text) : undefined;
  if (json === undefined) return redactString(text, path, log, rules);
  const inner = new RedactionLog();
  const redacted = redactValue(json, path, inner, rules);
  if (inner.paths.length === 0) return text;
  for (const ruleId of inner.ruleIdsSeen()) log.record(path, ruleId);
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
  for (const [, quoted] of text.matchAll(JSON_KEY)) {
    if (keyRuleOf(quoted!.includes('\\') ? unescapeJsonKey(quoted!) : quoted!, rules)) return true;
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
  if (!rules.prefilters.some((p) => p.test(text))) return text;
  let out = text;
  for (const rule of rules.values) {
    let hit = false;
    out = out.replace(rule.pattern, (match: string, ...groups: unknown[]) => {
      const secret = rule.group === 0 ? match : (groups[rule.group - 1] as string | undefined);
      if (!secret) return match;
      hit = true;
      return match.replace(secret, marker(rule.id));
    });
    if (hit) log.record(path, rule.id);
  }
  return out;
}
