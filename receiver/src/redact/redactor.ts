import type { RedactionMeta } from '@agentrace/schemas';
import { DEFAULT_KEY_RULE, DEFAULT_PREFILTER, DEFAULT_VALUE_RULES, type ValueRule } from './rules.ts';

export interface RedactorRules {
  key: { id: string; pattern: RegExp };
  values: ValueRule[];
  prefilter: RegExp;
}

export const DEFAULT_RULES: RedactorRules = { key: DEFAULT_KEY_RULE, values: DEFAULT_VALUE_RULES, prefilter: DEFAULT_PREFILTER };

/** Collects where secrets were replaced, without the secrets. */
export class RedactionLog {
  readonly paths: string[] = [];
  private readonly ruleIds = new Set<string>();

  record(path: string, ruleId: string): void {
    this.paths.push(path);
    this.ruleIds.add(ruleId);
  }

  toMeta(): RedactionMeta {
    return { paths: this.paths, rules: [...this.ruleIds].map((rule_id) => ({ rule_id, reason: 'secret' })) };
  }
}

const marker = (ruleId: string) => `[REDACTED:${ruleId}]`;
const SIMPLE_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const childPath = (path: string, key: string) => (SIMPLE_KEY.test(key) ? `${path}.${key}` : `${path}['${key.replace(/'/g, "\\'")}']`);
const normalizedKey = (key: string) => key.toLowerCase().replace(/[.-]/g, '_');

/**
 * Returns `value` with secrets replaced by `[REDACTED:<rule_id>]`: whole values under secret-named keys,
 * and only the matched secret inside other strings. `path` is the JSONPath of `value` for the log.
 */
export function redactValue(value: unknown, path: string, log: RedactionLog, rules: RedactorRules = DEFAULT_RULES): unknown {
  if (typeof value === 'string') return redactString(value, path, log, rules);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v, i) => redactValue(v, `${path}[${i}]`, log, rules));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const p = childPath(path, key);
    if (typeof v === 'string' && v !== '' && rules.key.pattern.test(normalizedKey(key))) {
      out[key] = marker(rules.key.id);
      log.record(p, rules.key.id);
    } else if (
      // OTel records captured HTTP headers (`http.request.header.authorization`) as string arrays.
      Array.isArray(v) &&
      v.every((s) => typeof s === 'string') &&
      rules.key.pattern.test(normalizedKey(key))
    ) {
      out[key] = v.map((s: string, i) => {
        if (s === '') return s;
        log.record(`${p}[${i}]`, rules.key.id);
        return marker(rules.key.id);
      });
    } else {
      out[key] = redactValue(v, p, log, rules);
    }
  }
  return out;
}

/** Replaces secrets inside one string. */
export function redactString(text: string, path: string, log: RedactionLog, rules: RedactorRules = DEFAULT_RULES): string {
  if (!rules.prefilter.test(text)) return text;
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
