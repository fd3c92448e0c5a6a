/** A key-name rule: the whole string value of a matching key is a secret. */
export interface KeyRule {
  id: string;
  /** Tested against the key in snake case (see `normalizedKey`): `X-API-Key`, `apiKey` → `x_api_key`, `api_key`. */
  pattern: RegExp;
}

/** A value pattern: only the secret is replaced; the text around it stays. */
export interface ValueRule {
  id: string;
  /** Global: every occurrence is replaced. */
  pattern: RegExp;
  /** Index of the capture group that holds the secret; 0 for the whole match. */
  group: number;
}

/**
 * Keys whose whole value is a secret: the last segment of the key, so `http.request.header.authorization`
 * matches and `gen_ai.usage.input_tokens` does not.
 */
export const DEFAULT_KEY_RULES: KeyRule[] = [
  {
    id: 'denylist.key',
    pattern:
      /(^|_)(authorization|proxy_authorization|cookie|set_cookie|password|passwd|passphrase|secret|client_secret|api_key|apikey|private_key|access_key|secret_key|secret_access_key|session_token|access_token|refresh_token|id_token|auth_token|bearer_token|token)$/,
  },
];

export const DEFAULT_VALUE_RULES: ValueRule[] = [
  // Up to the END line, or to the end of the text when a length limit cut the block off.
  {
    id: 'pattern.private_key',
    pattern:
      /-----BEGIN [A-Z ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY(?: BLOCK)?-----|$)/g,
    group: 0,
  },
  // An AWS secret key has no shape of its own (40 base64 characters): it is recognized by its label or by
  // the access key id just before it. Before `pattern.aws_access_key`, which would hide that id.
  {
    id: 'pattern.aws_secret_key',
    pattern:
      /(?:\b(?:AKIA|ASIA)[0-9A-Z]{16}[\s"',:;=|]{1,6}|\b(?:aws_?)?secret_?access_?key\b["']?\s*[:=]\s*["']?)([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/gi,
    group: 1,
  },
  // `Bearer` as sent in headers takes any token; `bearer` and `Basic` are also English words, so a plain
  // word after them ("Basic troubleshooting") is not taken for a credential.
  {
    id: 'pattern.bearer',
    pattern:
      /\b(?:Bearer\s+|(?:[Bb]asic|bearer)\s+(?![A-Za-z][a-z]*(?![\w\-.~+/=])))([A-Za-z0-9\-._~+/]{8,}=*)/g,
    group: 1,
  },
  { id: 'pattern.anthropic_key', pattern: /\bsk-ant-[A-Za-z0-9_-]{20,}/g, group: 0 },
  { id: 'pattern.openai_key', pattern: /\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}/g, group: 0 },
  { id: 'pattern.google_key', pattern: /\bAIza[0-9A-Za-z_-]{35}/g, group: 0 },
  // OAuth access tokens and client secrets of Google Cloud.
  {
    id: 'pattern.google_oauth',
    pattern: /\b(?:ya29\.[0-9A-Za-z_-]{20,}|GOCSPX-[0-9A-Za-z_-]{28})/g,
    group: 0,
  },
  { id: 'pattern.aws_access_key', pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, group: 0 },
  {
    id: 'pattern.github_token',
    pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})/g,
    group: 0,
  },
  {
    id: 'pattern.jwt',
    pattern: /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{8,}/g,
    group: 0,
  },
  { id: 'pattern.url_password', pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:([^\s@/]+)@/gi, group: 1 },
  { id: 'pattern.agentrace_key', pattern: /\bart_[A-Za-z0-9_-]{43}/g, group: 0 },
];

/**
 * One cheap test that every default value rule's match passes: most strings never reach the rules above,
 * which keeps redaction off the ingest profile.
 */
export const DEFAULT_PREFILTER =
  /Bearer|Basic|sk-|AIza|ya29\.|GOCSPX-|AKIA|ASIA|secret_?access_?key|gh[pousr]_|github_pat_|eyJ|-----BEGIN|:\/\/[^\s/]*:[^\s/]*@|art_/i;
