import { z } from 'zod';

const Limit = z.coerce.number().int().min(1).max(1000).default(100);

/** The role of a user key (DESIGN §6): each includes what the one before it may do. */
export const Role = z.enum(['viewer', 'approver', 'admin']);
export type Role = z.infer<typeof Role>;

export const KeyKind = z.enum(['ingest', 'user']);
export type KeyKind = z.infer<typeof KeyKind>;

/** `POST /v1/admin/projects`. */
export const CreateProjectBody = z.object({ name: z.string().trim().min(1).max(200) }).strict();

/** `PUT /v1/admin/projects/{project_id}/retention`: days to keep runs, or null to keep them forever. */
export const SetRetentionBody = z.object({ days: z.number().int().min(1).max(36_500).nullable() }).strict();

/** A project as the admin endpoints return it. */
export const Project = z.object({
  project_id: z.uuid(),
  name: z.string(),
  retention_days: z.number().int().nullable(),
  created_at: z.string(),
});
export type Project = z.infer<typeof Project>;

/**
 * `POST /v1/admin/keys`: an ingest key names its project and has no role; a user key has a role and no
 * project. `expires_at` (optional) must be in the future.
 */
export const CreateKeyBody = z
  .discriminatedUnion('kind', [
    z
      .object({
        kind: z.literal('ingest'),
        project_id: z.uuid(),
        expires_at: z.iso.datetime({ offset: true }).optional(),
      })
      .strict(),
    z
      .object({
        kind: z.literal('user'),
        role: Role,
        expires_at: z.iso.datetime({ offset: true }).optional(),
      })
      .strict(),
  ])
  .refine((b) => b.expires_at === undefined || Date.parse(b.expires_at) > Date.now(), {
    path: ['expires_at'],
    message: 'must be in the future',
  });
export type CreateKeyBody = z.infer<typeof CreateKeyBody>;

/** The answer to `POST /v1/admin/keys`: the secret, shown this once. */
export const CreatedKey = z.object({ key_id: z.uuid(), key: z.string() });

/** A key as listed: never its secret nor its hash; `prefix` is enough to recognize it. */
export const ApiKey = z.object({
  key_id: z.uuid(),
  kind: KeyKind,
  role: Role.nullable(),
  project_id: z.uuid().nullable(),
  prefix: z.string(),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
  expires_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
});
export type ApiKey = z.infer<typeof ApiKey>;

/** What an audit entry records: `<object>.<verb>`, e.g. `key.revoked`, `retention.runs_deleted`. */
export const AuditAction = z
  .string()
  .regex(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/, 'must look like object.verb');

/** One row of the hash-chained audit log (API.md `GET /v1/audit`). */
export const AuditRecord = z.object({
  seq: z.number().int().positive(),
  id: z.uuid(),
  ts: z.string(),
  actor_key_id: z.uuid().nullable(),
  action: AuditAction,
  target: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  prev_hash: z.string(),
  hash: z.string(),
});
export type AuditRecord = z.infer<typeof AuditRecord>;

/** `GET /v1/audit` query string: newest first. */
export const AuditListQuery = z
  .object({ limit: Limit, cursor: z.string().min(1).optional(), action: AuditAction.optional() })
  .strict();
export type AuditListQuery = z.infer<typeof AuditListQuery>;

/**
 * What `GET /v1/audit:verify` found: each problem names the row (seq, and id when the row exists) and
 * what happened to it. `head` is the chain's end; keep a copy elsewhere to anchor the chain.
 */
export const AuditVerification = z.object({
  ok: z.boolean(),
  checked: z.number().int(),
  head: z.object({ seq: z.number().int(), hash: z.string() }),
  problems: z.array(
    z.object({
      seq: z.number().int(),
      id: z.uuid().nullable(),
      problem: z.enum(['edited', 'inserted', 'deleted']),
      message: z.string(),
    }),
  ),
});
export type AuditVerification = z.infer<typeof AuditVerification>;
