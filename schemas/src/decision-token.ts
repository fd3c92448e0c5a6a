import { createPrivateKey, createPublicKey, randomUUID, sign, verify } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson, sha256Tagged } from './canonical-json.ts';

/** What a DecisionToken asserts (DESIGN §6): this call, with these arguments, may run until `exp`. */
export const DecisionClaims = z
  .object({
    v: z.literal(1),
    /** The signing key's id, so a rotated key's tokens still verify. */
    kid: z.uuid(),
    token_id: z.uuid(),
    nonce: z.string().min(16),
    tenant_id: z.uuid(),
    project_id: z.uuid(),
    run_id: z.uuid(),
    tool_name: z.string(),
    args_sha256: z.string(),
    decision: z.literal('allow'),
    /** Present on an admin's break-glass override of the policy (always audited). */
    break_glass: z.literal(true).optional(),
    /** Seconds since the epoch. */
    iat: z.number().int(),
    exp: z.number().int(),
  })
  .strict();
export type DecisionClaims = z.infer<typeof DecisionClaims>;

/** `GET /v1/decisions/public-key`: the current signing key (SPKI PEM) and every key, so older tokens still verify. */
export const DecisionPublicKeys = z.object({
  key_id: z.uuid(),
  algorithm: z.literal('Ed25519'),
  public_key: z.string(),
  keys: z.array(
    z.object({
      key_id: z.uuid(),
      public_key: z.string(),
      created_at: z.string(),
      retired_at: z.string().nullable(),
    }),
  ),
});
export type DecisionPublicKeys = z.infer<typeof DecisionPublicKeys>;

/** The hash a token binds: sha256 of the canonical JSON of the arguments. */
export const argsHash = (args: unknown): string => sha256Tagged(canonicalJson(args ?? null));

const b64 = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/**
 * Signs claims with an Ed25519 private key (PEM): `<base64url(claims JSON)>.<base64url(signature)>`.
 * @example signDecisionToken(newClaims({ ... }), privatePem)
 */
export function signDecisionToken(claims: DecisionClaims, privateKeyPem: string): string {
  const body = b64(JSON.stringify(claims));
  const signature = sign(null, Buffer.from(body), createPrivateKey(privateKeyPem));
  return `${body}.${b64(signature)}`;
}

/** Fresh claims for an allow: a new token id and nonce, valid for `ttlSeconds`. */
export function newClaims(
  fields: Omit<DecisionClaims, 'v' | 'token_id' | 'nonce' | 'decision' | 'iat' | 'exp'>,
  ttlSeconds: number,
  now = Date.now(),
): DecisionClaims {
  const iat = Math.floor(now / 1000);
  return {
    v: 1,
    ...fields,
    token_id: randomUUID(),
    nonce: b64(Buffer.from(randomUUID().replaceAll('-', ''), 'hex')),
    decision: 'allow',
    iat,
    exp: iat + ttlSeconds,
  };
}

export type TokenCheck = { ok: true; claims: DecisionClaims } | { ok: false; reason: string };

/**
 * Verifies a DecisionToken's signature with a public key (PEM) and its expiry; the caller compares the
 * tool and argument hash with the call it is about to make.
 * @example const check = verifyDecisionToken(token, publicPem); if (check.ok && check.claims.args_sha256 === argsHash(args)) run();
 */
export function verifyDecisionToken(token: string, publicKeyPem: string, now = Date.now()): TokenCheck {
  const parts = token.split('.');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return { ok: false, reason: 'malformed token' };
  const [body, signature] = parts as [string, string];
  let valid = false;
  try {
    valid = verify(
      null,
      Buffer.from(body),
      createPublicKey(publicKeyPem),
      Buffer.from(signature, 'base64url'),
    );
  } catch {
    valid = false;
  }
  if (!valid) return { ok: false, reason: 'bad signature' };
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed claims' };
  }
  const claims = DecisionClaims.safeParse(json);
  if (!claims.success) return { ok: false, reason: 'malformed claims' };
  if (claims.data.exp * 1000 <= now) return { ok: false, reason: 'expired' };
  return { ok: true, claims: claims.data };
}
