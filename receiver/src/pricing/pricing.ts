import { readFileSync } from 'node:fs';
import { z } from 'zod';
import shipped from './prices.json' with { type: 'json' };

/** USD per 1M tokens. */
export const ModelPrice = z.object({
  provider: z.string(),
  model: z.string().min(1),
  input: z.number().nonnegative(),
  cached_input: z.number().nonnegative().optional(),
  cache_write: z.number().nonnegative().optional(),
  output: z.number().nonnegative(),
});
export type ModelPrice = z.infer<typeof ModelPrice>;

export const PriceTable = z.object({ models: z.array(ModelPrice) });

export interface Usage {
  inputTokens: number | null;
  outputTokens: number | null;
  cachedInputTokens: number | null;
  cacheWriteTokens: number | null;
}

/** Looks up model prices by name, tolerant of the dated and vendor-qualified names providers return. */
export class Pricing {
  private readonly byModel = new Map<string, ModelPrice>();
  private readonly families: string[];

  constructor(prices: readonly ModelPrice[]) {
    for (const price of prices) this.byModel.set(price.model.toLowerCase(), price);
    // Longest first, so `gpt-4o-mini-…` finds gpt-4o-mini before gpt-4o.
    this.families = [...this.byModel.keys()].sort((a, b) => b.length - a.length);
  }

  /** The shipped table, extended and overridden (by model name) by the file at `overridePath`. */
  static load(overridePath?: string): Pricing {
    const base = PriceTable.parse(shipped).models;
    if (!overridePath) return new Pricing(base);
    const extra = PriceTable.parse(JSON.parse(readFileSync(overridePath, 'utf8'))).models;
    const names = new Set(extra.map((p) => p.model.toLowerCase()));
    return new Pricing([...base.filter((p) => !names.has(p.model.toLowerCase())), ...extra]);
  }

  /**
   * The price of `model`: exact name, then the name without vendor prefixes (`openai/`, `models/`,
   * `anthropic.`, `us.anthropic.`) and date or version suffixes (`-2024-08-06`, `-20241022`, `@20240620`,
   * `-v2:0`), then the longest known family the name starts with.
   */
  find(model: string): ModelPrice | undefined {
    const name = model.toLowerCase();
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
    return family ? this.byModel.get(family) : undefined;
  }

  /** Estimated USD of one call, or null when the model is unknown or no usage was reported. */
  estimate(model: string | null, usage: Usage): number | null {
    if (!model || (usage.inputTokens === null && usage.outputTokens === null)) return null;
    const price = this.find(model);
    if (!price) return null;
    const cached = usage.cachedInputTokens ?? 0;
    const written = usage.cacheWriteTokens ?? 0;
    // GenAI semantics: input tokens include the cached ones, which are billed at their own prices.
    const uncached = Math.max(0, (usage.inputTokens ?? 0) - cached - written);
    const usd =
      uncached * price.input +
      cached * (price.cached_input ?? price.input) +
      written * (price.cache_write ?? price.input) +
      (usage.outputTokens ?? 0) * price.output;
    return usd / 1_000_000;
  }
}
