import { readFileSync } from 'node:fs';
import { z } from 'zod';
import shipped from './prices.json' with { type: 'json' };

const Usd = z.number().nonnegative();

/** What follows a known family's name when it names a different product (with its own price). */
const TIER_SUFFIX = /^(pro|mini|nano|max|turbo|ultra|deep-research|realtime)(-|$)/;

/** USD per 1M tokens of each kind. `input` is the uncached input price; the rest default to it or to output. */
const TokenPrices = {
  input: Usd,
  /** Reading cached input. */
  cached_input: Usd.optional(),
  /** Writing input into the cache. */
  cache_write: Usd.optional(),
  output: Usd,
  /** Reasoning tokens, which are part of the output tokens (OpenAI, GenAI semconv); default: output. */
  reasoning: Usd.optional(),
};

/** The prices of a whole call whose input is above `above_input_tokens` (long-context tiers). */
export const PriceTier = z.object({ above_input_tokens: z.number().int().positive(), ...TokenPrices });
export type PriceTier = z.infer<typeof PriceTier>;

/** One model's prices from `effective_from` (a UTC date; absent: since always) until its next version. */
export const ModelPrice = z.object({
  provider: z.string(),
  model: z.string().min(1),
  effective_from: z.iso.date().optional(),
  ...TokenPrices,
  tiers: z.array(PriceTier).optional(),
});
export type ModelPrice = z.infer<typeof ModelPrice>;

export const PriceTable = z.object({ models: z.array(ModelPrice) });

export interface Usage {
  inputTokens: number | null;
  outputTokens: number | null;
  cachedInputTokens: number | null;
  cacheWriteTokens: number | null;
  reasoningTokens?: number | null;
}

type TokenPrices = Pick<ModelPrice, 'input' | 'cached_input' | 'cache_write' | 'output' | 'reasoning'>;

/**
 * Looks up model prices by name, tolerant of the dated and vendor-qualified names providers return, and by
 * date: a price change applies to the calls made from its `effective_from` on.
 */
export class Pricing {
  /** Each model's versions, oldest first. */
  private readonly byModel = new Map<string, ModelPrice[]>();
  private readonly families: string[];

  constructor(prices: readonly ModelPrice[]) {
    for (const price of prices) {
      const name = price.model.toLowerCase();
      this.byModel.set(name, [...(this.byModel.get(name) ?? []), price]);
    }
    for (const versions of this.byModel.values()) {
      versions.sort((a, b) => (a.effective_from ?? '').localeCompare(b.effective_from ?? ''));
    }
    // Longest first, so `gpt-4o-mini-…` finds gpt-4o-mini before gpt-4o.
    this.families = [...this.byModel.keys()].sort((a, b) => b.length - a.length);
  }

  /**
   * The shipped table, extended by the file at `overridePath`; a model the file names takes its whole price
   * history from the file (all its shipped versions are dropped).
   */
  static load(overridePath?: string): Pricing {
    const base = PriceTable.parse(shipped).models;
    if (!overridePath) return new Pricing(base);
    const extra = PriceTable.parse(JSON.parse(readFileSync(overridePath, 'utf8'))).models;
    const names = new Set(extra.map((p) => p.model.toLowerCase()));
    return new Pricing([...base.filter((p) => !names.has(p.model.toLowerCase())), ...extra]);
  }

  /**
   * The price of `model` for a call at `at` (RFC 3339; default now): the version in effect then (the oldest
   * one for a call before any). The name is matched exactly, then without vendor prefixes (`openai/`,
   * `models/`, `anthropic.`, `us.anthropic.`) and date or version suffixes (`-2024-08-06`, `-20241022`,
   * `@20240620`, `-v2:0`), then as the longest known family the name starts with.
   */
  find(model: string, at?: string): ModelPrice | undefined {
    const versions = this.versionsOf(model.toLowerCase());
    if (!versions) return undefined;
    const day = (at ?? new Date().toISOString()).slice(0, 10);
    let found = versions[0];
    for (const version of versions) if ((version.effective_from ?? '') <= day) found = version;
    return found;
  }

  private versionsOf(name: string): ModelPrice[] | undefined {
    const exact = this.byModel.get(name);
    if (exact) return exact;
    const bare = name
      .replace(/^.*\//, '')
      .replace(/^((anthropic|openai|google|meta|amazon|us|eu|apac)\.)+/, '')
      .replace(/(-v\d+)?(:\d+)?$/, '')
      .replace(/([-@]\d{4}-?\d{2}-?\d{2}|-\d{2}-\d{2}|-latest|-preview.*|-exp.*)$/, '');
    const found = this.byModel.get(bare);
    if (found) return found;
    const family = this.families.find((f) => bare.startsWith(`${f}-`));
    // A variant (`gpt-4o-mini-audio`, `gemini-1.5-pro-002`) costs what its family does, but a tier suffix
    // names another product with its own price (`o3-pro`, `o1-mini`): unknown, so null, never a guess.
    if (!family || TIER_SUFFIX.test(bare.slice(family.length + 1))) return undefined;
    return this.byModel.get(family);
  }

  /**
   * Estimated USD of one call made at `at` (default now), or null when the model is unknown or no usage was
   * reported. A call whose input is above a long-context tier's threshold is priced whole at that tier.
   */
  estimate(model: string | null, usage: Usage, at?: string): number | null {
    if (!model || (usage.inputTokens === null && usage.outputTokens === null)) return null;
    const price = this.find(model, at);
    if (!price) return null;
    const input = usage.inputTokens ?? 0;
    const p = tierOf(price, input);
    const cached = usage.cachedInputTokens ?? 0;
    const written = usage.cacheWriteTokens ?? 0;
    const output = usage.outputTokens ?? 0;
    const reasoning = Math.min(usage.reasoningTokens ?? 0, output);
    // GenAI semantics: input tokens include the cached ones and output tokens the reasoning ones, each
    // billed at its own price.
    const uncached = Math.max(0, input - cached - written);
    const usd =
      uncached * p.input +
      cached * (p.cached_input ?? p.input) +
      written * (p.cache_write ?? p.input) +
      (output - reasoning) * p.output +
      reasoning * (p.reasoning ?? p.output);
    return usd / 1_000_000;
  }
}

/** The prices for a call with `inputTokens` of input: the highest tier it is above, else the base prices. */
function tierOf(price: ModelPrice, inputTokens: number): TokenPrices {
  let chosen: TokenPrices = price;
  let threshold = 0;
  for (const tier of price.tiers ?? []) {
    if (inputTokens > tier.above_input_tokens && tier.above_input_tokens > threshold) {
      chosen = tier;
      threshold = tier.above_input_tokens;
    }
  }
  return chosen;
}
