import { z } from 'zod';

/** What a policy does with a tool call (DESIGN §6). */
export const PolicyEffect = z.enum(['allow', 'require_approval', 'block']);
export type PolicyEffect = z.infer<typeof PolicyEffect>;

/** A path into the call's arguments: `$`, then `.name` and `[index]` steps, e.g. `$.to[0].amount`. */
export const ArgPath = z
  .string()
  .regex(/^\$(\.[A-Za-z_][\w-]*|\[\d+\])*$/, 'must be a path like $.field.sub[0]');

const isRegex = (pattern: string) => {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
};

/** A condition on one argument; a path that does not exist fails every condition. */
export const ArgCondition = z.discriminatedUnion('op', [
  z.object({ path: ArgPath, op: z.literal('equals'), value: z.json() }).strict(),
  z.object({ path: ArgPath, op: z.literal('in'), values: z.array(z.json()).min(1).max(1000) }).strict(),
  z
    .object({
      path: ArgPath,
      op: z.literal('matches'),
      pattern: z.string().min(1).max(1000).refine(isRegex, 'must be a regular expression'),
    })
    .strict(),
  z.object({ path: ArgPath, op: z.enum(['gt', 'gte', 'lt', 'lte']), value: z.number() }).strict(),
]);
export type ArgCondition = z.infer<typeof ArgCondition>;

/**
 * One rule: the tool by exact name or glob (`*` any run of characters, `?` one), every argument condition
 * and every run tag (a value, or a list of accepted values) must hold for it to match.
 */
export const PolicyRule = z
  .object({
    id: z.string().trim().min(1).max(100),
    tool: z.string().min(1).max(200),
    args: z.array(ArgCondition).max(50).default([]),
    tags: z.record(z.string(), z.union([z.string(), z.array(z.string()).min(1)])).default({}),
    effect: PolicyEffect,
    reason: z.string().max(1000).optional(),
  })
  .strict();
export type PolicyRule = z.infer<typeof PolicyRule>;

/** A policy document: rules in order (the first that matches decides), and the effect for the rest. */
export const PolicyDocument = z
  .object({ rules: z.array(PolicyRule).max(500), default: PolicyEffect })
  .strict()
  .superRefine((doc, ctx) => {
    const seen = new Set<string>();
    doc.rules.forEach((rule, i) => {
      if (seen.has(rule.id))
        ctx.addIssue({ code: 'custom', path: ['rules', i, 'id'], message: 'is used by another rule' });
      seen.add(rule.id);
    });
  });
export type PolicyDocument = z.infer<typeof PolicyDocument>;

/** `POST /v1/policies`: a new version of the project's policy (never an edit of an old one). */
export const CreatePolicyBody = z.object({ project_id: z.uuid(), document: PolicyDocument }).strict();
export type CreatePolicyBody = z.infer<typeof CreatePolicyBody>;

/** A policy version as the API returns it. */
export const Policy = z.object({
  policy_id: z.uuid(),
  project_id: z.uuid(),
  version: z.number().int().positive(),
  document: PolicyDocument,
  active: z.boolean(),
  created_at: z.string(),
  activated_at: z.string().nullable(),
});
export type Policy = z.infer<typeof Policy>;

/** What the evaluator decided, and which rule decided it (null: the document's default). */
export interface PolicyVerdict {
  effect: PolicyEffect;
  ruleId: string | null;
  reason: string | null;
}

/** The call a policy is evaluated on. */
export interface PolicyCall {
  toolName: string;
  args: unknown;
  tags: Record<string, string>;
}

/** Whether `name` matches a tool pattern: exact, or a glob with `*` and `?`. */
export function toolMatches(pattern: string, name: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern === name;
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 's').test(name);
}

const MISSING = Symbol('missing');

/** The value at an ArgPath, or MISSING. */
export function valueAt(root: unknown, path: string): unknown {
  let value: unknown = root;
  for (const [, field, index] of path.slice(1).matchAll(/\.([A-Za-z_][\w-]*)|\[(\d+)\]/g)) {
    if (field !== undefined) {
      if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, field))
        return MISSING;
      value = (value as Record<string, unknown>)[field];
    } else {
      const i = Number(index);
      if (!Array.isArray(value) || i >= value.length) return MISSING;
      value = value[i];
    }
  }
  return value;
}

const jsonEqual = (a: unknown, b: unknown): boolean => {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return (
    ka.length === kb.length &&
    ka.every(
      (k) =>
        Object.hasOwn(b, k) &&
        jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
    )
  );
};

function conditionHolds(condition: ArgCondition, args: unknown): boolean {
  const value = valueAt(args, condition.path);
  if (value === MISSING) return false;
  switch (condition.op) {
    case 'equals':
      return jsonEqual(value, condition.value);
    case 'in':
      return condition.values.some((v) => jsonEqual(value, v));
    case 'matches':
      return typeof value === 'string' && new RegExp(condition.pattern).test(value);
    default: {
      if (typeof value !== 'number') return false;
      const limit = condition.value;
      return condition.op === 'gt'
        ? value > limit
        : condition.op === 'gte'
          ? value >= limit
          : condition.op === 'lt'
            ? value < limit
            : value <= limit;
    }
  }
}

function ruleMatches(rule: PolicyRule, call: PolicyCall): boolean {
  if (!toolMatches(rule.tool, call.toolName)) return false;
  for (const [key, wanted] of Object.entries(rule.tags)) {
    const actual = call.tags[key];
    if (actual === undefined || !(Array.isArray(wanted) ? wanted.includes(actual) : wanted === actual))
      return false;
  }
  return rule.args.every((c) => conditionHolds(c, call.args));
}

/**
 * Evaluates a policy on a tool call: the first rule that matches decides, else the default. Pure.
 * @example evaluatePolicy(doc, { toolName: 'send_email', args: { to: 'a@b.c' }, tags: { env: 'prod' } })
 */
export function evaluatePolicy(doc: PolicyDocument, call: PolicyCall): PolicyVerdict {
  const rule = doc.rules.find((r) => ruleMatches(r, call));
  if (!rule) return { effect: doc.default, ruleId: null, reason: null };
  return { effect: rule.effect, ruleId: rule.id, reason: rule.reason ?? null };
}

/** `POST /v1/decisions`: may this run call this tool with these arguments? */
export const DecisionBody = z
  .object({
    run_id: z.uuid(),
    tool_name: z.string().min(1).max(200),
    args: z.json().default({}),
  })
  .strict();
export type DecisionBody = z.infer<typeof DecisionBody>;

/** `POST /v1/decisions:break-glass`: an admin's override of the policy for one call; the reason is mandatory. */
export const BreakGlassBody = DecisionBody.extend({ reason: z.string().trim().min(1).max(2000) }).strict();
export type BreakGlassBody = z.infer<typeof BreakGlassBody>;

/** The answer: `allow` with a signed token, `deny` with the rule, or `pending` with an approval to wait on. */
export const DecisionResult = z.object({
  decision: z.enum(['allow', 'deny', 'pending']),
  token: z.string().nullable(),
  token_id: z.uuid().nullable(),
  approval_id: z.uuid().nullable(),
  policy_id: z.uuid().nullable(),
  rule_id: z.string().nullable(),
  reason: z.string().nullable(),
  expires_at: z.string().nullable(),
});
export type DecisionResult = z.infer<typeof DecisionResult>;

export const ApprovalStatus = z.enum(['pending', 'approved', 'denied', 'expired']);
export type ApprovalStatus = z.infer<typeof ApprovalStatus>;

/** An approval request as the API returns it; `token` once approved. */
export const Approval = z.object({
  approval_id: z.uuid(),
  project_id: z.uuid(),
  run_id: z.uuid(),
  policy_id: z.uuid(),
  rule_id: z.string().nullable(),
  tool_name: z.string(),
  args: z.json(),
  args_sha256: z.string(),
  status: ApprovalStatus,
  requested_by: z.uuid().nullable(),
  created_at: z.string(),
  expires_at: z.string(),
  decided_by: z.uuid().nullable(),
  decided_at: z.string().nullable(),
  comment: z.string().nullable(),
  token_id: z.uuid().nullable(),
  token: z.string().nullable(),
});
export type Approval = z.infer<typeof Approval>;

/** `GET /v1/policies` query string: one project's versions, or every project's. */
export const PolicyListQuery = z.object({ project_id: z.uuid().optional() }).strict();

/** `GET /v1/approvals` query string: newest first. */
export const ApprovalListQuery = z
  .object({ status: ApprovalStatus.optional(), limit: z.coerce.number().int().min(1).max(1000).default(100) })
  .strict();

const WAIT = /^(\d+)(ms|s)?$/;
/** Longest long-poll: below the usual proxy idle timeouts. */
export const MAX_APPROVAL_WAIT_MS = 60_000;

/**
 * `GET /v1/approvals/{id}` query string: `wait` (`30s`, `500ms`, or seconds) holds the answer back until
 * the approval is no longer pending or the time is up (at most 60 s), then answers it as it is.
 */
export const ApprovalGetQuery = z
  .object({
    wait: z
      .string()
      .regex(WAIT, 'must be a duration like 30s or 500ms')
      .transform((s) => {
        const [, n, unit] = WAIT.exec(s)!;
        return Number(n) * (unit === 'ms' ? 1 : 1000);
      })
      .pipe(z.number().max(MAX_APPROVAL_WAIT_MS, 'must be at most 60s'))
      .optional(),
  })
  .strict();

/** `POST /v1/approvals/{id}:approve|:deny`. */
export const ApprovalActionBody = z.object({ comment: z.string().trim().min(1).max(2000) }).strict();
