import { createHash } from 'node:crypto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A UUID (version 5 layout) derived from `name`: the same name always gives the same run id. */
export function nameBasedUuid(name: string): string {
  const h = createHash('sha1').update(name).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The run a span belongs to: its explicit `agentrace.run.id` (a UUID as given, anything else hashed), else
 * its trace. Derived, never looked up, so concurrent writers agree on it without coordination.
 */
export function runIdFor(tenantId: string, traceIdHex: string, explicitRunId: string | undefined): string {
  if (explicitRunId && UUID.test(explicitRunId)) return explicitRunId.toLowerCase();
  const name = explicitRunId ? `${tenantId}/run/${explicitRunId}` : `${tenantId}/trace/${traceIdHex}`;
  let id = recent.get(name);
  if (id === undefined) {
    // Spans of one trace arrive together: a small memo saves a SHA-1 per span on the ingest path.
    if (recent.size >= RECENT_LIMIT) recent.clear();
    id = nameBasedUuid(name);
    recent.set(name, id);
  }
  return id;
}

const RECENT_LIMIT = 10_000;
const recent = new Map<string, string>();
