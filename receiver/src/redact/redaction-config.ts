import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DEFAULT_RULES, type RedactorRules } from './redactor.ts';
import type { KeyRule, ValueRule } from './rules.ts';

const RuleId = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_.-]+$/, 'must be letters, digits, ".", "_" or "-"');

const KeyRuleConfig = z.object({ id: RuleId, pattern: z.string().min(1) }).strict();

const ValueRuleConfig = z
  .object({
    id: RuleId,
    pattern: z.string().min(1),
    flags: z
      .string()
      .regex(/^[imsu]*$/, 'only i, m, s and u (every rule is global)')
      .optional(),
    group: z.number().int().nonnegative().optional(),
  })
  .strict();

/**
 * The deployment's redaction file (`AGENTRACE_REDACTION_FILE`, JSON or YAML): default rules to turn off
 * by id, and key-name and value rules to add.
 */
export const RedactionConfig = z
  .object({
    disable: z.array(RuleId).default([]),
    keys: z.array(KeyRuleConfig).default([]),
    values: z.array(ValueRuleConfig).default([]),
  })
  .strict()
  .superRefine((config, ctx) => {
    const defaults = new Set([...DEFAULT_RULES.keys, ...DEFAULT_RULES.values].map((r) => r.id));
    config.disable.forEach((id, i) => {
      if (!defaults.has(id))
        ctx.addIssue({ code: 'custom', path: ['disable', i], message: `no default rule "${id}"` });
    });
    const taken = new Set([...defaults].filter((id) => !config.disable.includes(id)));
    for (const kind of ['keys', 'values'] as const) {
      config[kind].forEach((rule, i) => {
        if (taken.has(rule.id))
          ctx.addIssue({
            code: 'custom',
            path: [kind, i, 'id'],
            message: `"${rule.id}" is already a rule id`,
          });
        taken.add(rule.id);
      });
    }
    config.keys.forEach((rule, i) => {
      const problem = regexProblem(rule.pattern, 'i');
      if (problem) ctx.addIssue({ code: 'custom', path: ['keys', i, 'pattern'], message: problem });
    });
    config.values.forEach((rule, i) => {
      const problem = regexProblem(rule.pattern, rule.flags ?? '', rule.group ?? 0);
      if (problem) ctx.addIssue({ code: 'custom', path: ['values', i, 'pattern'], message: problem });
    });
  });
export type RedactionConfig = z.infer<typeof RedactionConfig>;

function regexProblem(source: string, flags: string, group = 0): string | null {
  let regex: RegExp;
  try {
    regex = new RegExp(source, flags);
  } catch (err) {
    return `invalid regular expression: ${(err as Error).message}`;
  }
  // An empty match would be replaced between every two characters.
  if (regex.test('')) return 'must not match the empty string';
  const groups = new RegExp(`${source}|`, flags).exec('')!.length - 1;
  if (group > groups) return `has ${groups} capture group(s), so group ${group} does not exist`;
  return null;
}

/** The default rules, without the disabled ones, plus the added ones (after the defaults). */
export function rulesFromConfig(config: RedactionConfig): RedactorRules {
  const enabled = <R extends { id: string }>(rules: R[]) =>
    rules.filter((r) => !config.disable.includes(r.id));
  const keys: KeyRule[] = config.keys.map((r) => ({ id: r.id, pattern: new RegExp(r.pattern, 'i') }));
  const values: ValueRule[] = config.values.map((r) => ({
    id: r.id,
    pattern: new RegExp(r.pattern, `g${r.flags ?? ''}`),
    group: r.group ?? 0,
  }));
  return {
    keys: [...enabled(DEFAULT_RULES.keys), ...keys],
    values: [...enabled(DEFAULT_RULES.values), ...values],
    // The default prefilter knows only the default rules; an added rule is its own prefilter.
    prefilters: [
      ...DEFAULT_RULES.prefilters,
      ...config.values.map((r) => new RegExp(r.pattern, r.flags ?? '')),
    ],
  };
}

/**
 * The rules of the redaction file at `path` (`.json`, else YAML), or the defaults without one. Throws an
 * error naming the file and every problem in it.
 */
export function loadRedactionRules(path?: string): RedactorRules {
  if (!path) return DEFAULT_RULES;
  let raw: unknown;
  try {
    const text = readFileSync(path, 'utf8');
    raw = path.toLowerCase().endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new Error(`redaction file ${path}: ${(err as Error).message}`);
  }
  const parsed = RedactionConfig.safeParse(raw ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`);
    throw new Error(`redaction file ${path}:\n  ${problems.join('\n  ')}`);
  }
  return rulesFromConfig(parsed.data);
}
