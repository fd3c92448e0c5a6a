// Shared with the audit log's hash chain, so it lives in schemas.
export { canonicalJson, sha256Tagged } from '@agentrace/schemas';
