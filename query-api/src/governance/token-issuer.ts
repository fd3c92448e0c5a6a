import { type DecisionClaims, newClaims, signDecisionToken } from '@agentrace/schemas';
import { currentSigningKey, type Pool } from '@agentrace/store';

/** What an allow token binds, besides the key that signs it. */
export type TokenFields = Omit<
  DecisionClaims,
  'v' | 'kid' | 'token_id' | 'nonce' | 'decision' | 'iat' | 'exp'
>;

/** A signed allow: its claims, the token, and its expiry (RFC 3339). */
export interface IssuedToken {
  claims: DecisionClaims;
  token: string;
  expiresAt: string;
}

/** Signs one allow token with the key read by `signer()`. */
export type Signer = (fields: TokenFields) => IssuedToken;

/**
 * Signs allow tokens with the server's current key. The key is the server's, not a tenant's: it is read
 * (as the owner) once per request that signs, so that a rotation (`agentrace keys rotate-signing`) takes
 * effect in every running server at once.
 */
export function tokenIssuer(pool: Pool, ttlSeconds: number) {
  return {
    /** Reads the current key, then signs with it (sync, so that it can run inside a store callback). */
    async signer(): Promise<Signer> {
      const key = await currentSigningKey(pool);
      return (fields) => {
        const claims = newClaims({ kid: key.id, ...fields }, ttlSeconds);
        return {
          claims,
          token: signDecisionToken(claims, key.privateKey),
          expiresAt: new Date(claims.exp * 1000).toISOString(),
        };
      };
    },
  };
}
export type TokenIssuer = ReturnType<typeof tokenIssuer>;
