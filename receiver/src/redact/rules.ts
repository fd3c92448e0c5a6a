/** A value pattern: `secret` is the part that is replaced; the text around it stays. */
export interface ValueRule {
  id: string;
  pattern: RegExp;
  /** Index of the capture group that holds the secret; 0 for the whole match. */
  group: number;
}

/**
 * Keys whose whole value is a secret: the last segment of the key (separators `.`, `-` and `_`
 * unified), so `http.request.header.authorization` matches and `gen_ai.usage.input_tokens` does not.
 */
export const DEFAULT_KEY_RULE = {
  id: 'denylist.key',
  pattern:
    /(^|_)(authorization|proxy_authorization|cookie|set_cookie|password|passwd|passphrase|secret|client_secret|api_key|apikey|private_key|access_key|secret_key|secret_access_key|session_token|access_token|refresh_token|id_token|auth_token|bearer_token|token)$/,
};

export const DEFAULT_VALUE_RULES: ValueRule[] = [
  { id: 'pattern.private_key', pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, group: 0 },
  { id: 'pattern.bearer', pattern: /\b(?:Bearer|Basic)\s+([A-Za-z0-9\-._~+/]{8,}=*)/g, group: 1 },
  { id: 'pattern.anthropic_key', pattern: /\bsk-ant-[A-Za-z0-9_-]{20,}/g, group: 0 },
  { id: 'pattern.openai_key', pattern: /\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}/g, group: 0 },
  { id: 'pattern.google_key', pattern: /\bAIza[0-9A-Za-z_-]{35}/g, group: 0 },
  { id: 'pattern.aws_access_key', pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, group: 0 },
  { id: 'pattern.github_token', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})/g, group: 0 },
  { id: 'pattern.jwt', pattern: /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{8,}/g, group: 0 },
  { id: 'pattern.url_password', pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:([^\s@/]+)@/gi, group: 1 },
  { id: 'pattern.agentrace_key', pattern: /\bart_[A-Za-z0-9_-]{43}/g, group: 0 },
];

/**
 * One cheap test that every value rule's match must pass: most strings never reach the rules above,
 * which keeps redaction off the ingest profile.
 */
export const DEFAULT_PREFILTER = /Bearer|Basic|sk-|AIza|AKIA|ASIA|gh[pousr]_|github_pat_|eyJ|-----BEGIN|:\/\/[^\s/]*:[^\s/]*@|art_/i;
