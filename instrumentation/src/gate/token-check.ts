import { argsHash, type DecisionClaims, verifyDecisionToken } from '@agentrace/schemas';
import type { GateClient } from './gate-client.ts';

/** The call a token must be for. */
export interface GatedCall {
  runId: string;
  toolName: string;
  args: unknown;
}

export type TokenVerdict = { ok: true; claims: DecisionClaims } | { ok: false; reason: string };

/** Public keys by server (API URL), then by key id: fetched once, again only for a key id not seen yet. */
const keyCache = new Map<string, Map<string, string>>();

/** The key id a token names, read before its signature is checked (only to pick the key that checks it). */
function kidOf(token: string): string | null {
  try {
    const claims = JSON.parse(
      Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8'),
    ) as unknown;
    const kid = (claims as { kid?: unknown } | null)?.kid;
    return typeof kid === 'string' ? kid : null;
  } catch {
    return null;
  }
}

/**
 * Checks a DecisionToken locally before the tool runs: its Ed25519 signature with the server's key of its
 * `kid`, its expiry, and that it is an allow for this run, this tool and these arguments (canonical hash).
 */
export async function checkToken(
  client: GateClient,
  server: string,
  token: string,
  call: GatedCall,
): Promise<TokenVerdict> {
  const kid = kidOf(token);
  if (!kid) return { ok: false, reason: 'malformed token' };
  let keys = keyCache.get(server);
  if (!keys?.has(kid)) {
    // A key id not seen yet: the server may have rotated its key since the keys were fetched.
    keys = await client.publicKeys();
    keyCache.set(server, keys);
  }
  const pem = keys.get(kid);
  if (!pem) return { ok: false, reason: `signed by an unknown key ${kid}` };
  const verified = verifyDecisionToken(token, pem);
  if (!verified.ok) return verified;
  const { claims } = verified;
  if (claims.run_id !== call.runId) return { ok: false, reason: 'issued for another run' };
  if (claims.tool_name !== call.toolName) return { ok: false, reason: 'issued for another tool' };
  if (claims.args_sha256 !== argsHash(call.args)) return { ok: false, reason: 'issued for other arguments' };
  return { ok: true, claims };
}
