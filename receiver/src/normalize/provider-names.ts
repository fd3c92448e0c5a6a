/** The well-known `gen_ai.provider.name` values of the GenAI conventions: kept as they are. */
const WELL_KNOWN = new Set([
  'openai',
  'anthropic',
  'aws.bedrock',
  'azure.ai.openai',
  'azure.ai.inference',
  'gcp.gemini',
  'gcp.vertex_ai',
  'gcp.gen_ai',
  'cohere',
  'deepseek',
  'groq',
  'ibm.watsonx.ai',
  'mistral_ai',
  'moonshot_ai',
  'perplexity',
  'x_ai',
]);

/** Names renamed by the GenAI conventions, and OpenInference's `llm.system` spellings. */
const ALIASES: Record<string, string> = {
  'az.ai.openai': 'azure.ai.openai',
  'az.ai.inference': 'azure.ai.inference',
  vertex_ai: 'gcp.vertex_ai',
  vertexai: 'gcp.vertex_ai',
  gemini: 'gcp.gemini',
  xai: 'x_ai',
  mistralai: 'mistral_ai',
};

/**
 * Vercel AI SDK provider ids (`openai.chat`, `google.vertex.chat`, `amazon-bedrock`…) by prefix, longest
 * first, as the SDK's own GenAI telemetry maps them (semconv-mapping.md §4). The legacy AI SDK spans put
 * these raw ids in `gen_ai.system` too, so every convention's provider goes through this table.
 */
const AI_SDK_PREFIXES: [string, string][] = [
  ['google.vertex', 'gcp.vertex_ai'],
  ['google.generative-ai', 'gcp.gemini'],
  ['google-vertex', 'gcp.vertex_ai'],
  ['amazon-bedrock', 'aws.bedrock'],
  ['azure-openai', 'azure.ai.openai'],
  ['anthropic', 'anthropic'],
  ['openai', 'openai'],
  ['azure', 'azure.ai.inference'],
  ['google', 'gcp.gemini'],
  ['mistral', 'mistral_ai'],
  ['cohere', 'cohere'],
  ['bedrock', 'aws.bedrock'],
  ['groq', 'groq'],
  ['deepseek', 'deepseek'],
  ['perplexity', 'perplexity'],
  ['xai', 'x_ai'],
];

/**
 * A provider name as the GenAI conventions' well-known value where one is known (`az.ai.openai` →
 * `azure.ai.openai`, `openai.chat` → `openai`), else lower-cased as given.
 * @example normalizeProvider('google.vertex.chat') // 'gcp.vertex_ai'
 */
export function normalizeProvider(provider: string): string {
  const lower = provider.toLowerCase();
  if (WELL_KNOWN.has(lower)) return lower;
  const alias = ALIASES[lower];
  if (alias) return alias;
  for (const [prefix, name] of AI_SDK_PREFIXES) {
    if (lower === prefix || lower.startsWith(`${prefix}.`) || lower.startsWith(`${prefix}-`)) return name;
  }
  return lower;
}
