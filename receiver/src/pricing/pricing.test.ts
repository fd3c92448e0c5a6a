import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Pricing, type Usage } from './pricing.ts';

const pricing = Pricing.load();
const usage = (u: Partial<Usage>): Usage => ({
  inputTokens: null,
  outputTokens: null,
  cachedInputTokens: null,
  cacheWriteTokens: null,
  ...u,
});

describe('Pricing.find', () => {
  it.each([
    ['gpt-4o', 'gpt-4o'],
    ['GPT-4o', 'gpt-4o'],
    ['gpt-4o-2024-08-06', 'gpt-4o'],
    ['gpt-4o-mini-2024-07-18', 'gpt-4o-mini'],
    ['openai/gpt-4o-mini', 'gpt-4o-mini'],
    ['gpt-4.1-mini-2025-04-14', 'gpt-4.1-mini'],
    ['o3-mini-2025-01-31', 'o3-mini'],
    ['claude-3-5-sonnet-20241022', 'claude-3-5-sonnet'],
    ['claude-3-5-sonnet-latest', 'claude-3-5-sonnet'],
    ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'],
    ['claude-3-5-sonnet@20240620', 'claude-3-5-sonnet'],
    ['anthropic.claude-3-5-sonnet-20240620-v1:0', 'claude-3-5-sonnet'],
    // Bedrock cross-region inference profiles put the region before the vendor.
    ['us.anthropic.claude-3-5-sonnet-20241022-v2:0', 'claude-3-5-sonnet'],
    ['eu.anthropic.claude-3-7-sonnet-20250219-v1:0', 'claude-3-7-sonnet'],
    ['models/gemini-2.5-pro', 'gemini-2.5-pro'],
    ['gemini-2.5-pro-preview-05-06', 'gemini-2.5-pro'],
    ['models/gemini-2.5-flash-lite', 'gemini-2.5-flash-lite'],
  ])('prices %s as %s', (name, expected) => {
    expect(pricing.find(name)?.model).toBe(expected);
  });

  it.each([
    ['gpt-4o-mini-search-preview', 'gpt-4o-mini'],
    ['gpt-4o-mini-audio', 'gpt-4o-mini'],
    ['gemini-2.5-flash-lite-001', 'gemini-2.5-flash-lite'],
    ['claude-opus-4-1-20250805', 'claude-opus-4-1'],
  ])('matches the longest known family: %s is %s', (name, expected) => {
    expect(pricing.find(name)?.model).toBe(expected);
  });

  it.each(['llama-3.1-70b', 'my-finetune', 'gpt-4', 'gpt4o', 'claude', '', 'o3-pro', 'o1-mini', 'gpt-5-pro', 'o3-deep-research-2025-06-26'])(
    'knows no price for %j',
    (name) => {
      expect(pricing.find(name)).toBeUndefined();
    },
  );
});

describe('Pricing.estimate', () => {
  it('prices input and output per million tokens', () => {
    // gpt-4o: $2.50 in, $10 out per 1M.
    expect(
      pricing.estimate('gpt-4o-2024-08-06', usage({ inputTokens: 1000, outputTokens: 200 })),
    ).toBeCloseTo((1000 * 2.5 + 200 * 10) / 1e6, 15);
  });

  it('does not price a dated gpt-4o-mini as gpt-4o', () => {
    // gpt-4o-mini: $0.15 in, $0.60 out per 1M (gpt-4o would be $2.50/$10).
    expect(
      pricing.estimate('gpt-4o-mini-2024-07-18', usage({ inputTokens: 1000, outputTokens: 200 })),
    ).toBeCloseTo((1000 * 0.15 + 200 * 0.6) / 1e6, 15);
  });

  it('prices cached input at the cached price and the rest at the input price', () => {
    // gpt-4o: 1000 input of which 400 cached: 600 at $2.50, 400 at $1.25, 200 out at $10.
    expect(
      pricing.estimate('gpt-4o', usage({ inputTokens: 1000, outputTokens: 200, cachedInputTokens: 400 })),
    ).toBeCloseTo((600 * 2.5 + 400 * 1.25 + 200 * 10) / 1e6, 15);
  });

  it('prices cache writes at the cache-write price', () => {
    // claude-sonnet-4-5: 1000 input = 500 uncached at $3 + 300 read at $0.30 + 200 written at $3.75; 100 out at $15.
    expect(
      pricing.estimate(
        'claude-sonnet-4-5-20250929',
        usage({ inputTokens: 1000, outputTokens: 100, cachedInputTokens: 300, cacheWriteTokens: 200 }),
      ),
    ).toBeCloseTo((500 * 3 + 300 * 0.3 + 200 * 3.75 + 100 * 15) / 1e6, 15);
  });

  it('prices cached input at the input price for a model with no cached price', () => {
    // gemini-2.0-flash-lite has no cached price: $0.075 for every input token.
    expect(
      pricing.estimate(
        'gemini-2.0-flash-lite',
        usage({ inputTokens: 1000, cachedInputTokens: 600, outputTokens: 0 }),
      ),
    ).toBeCloseTo((1000 * 0.075) / 1e6, 15);
  });

  it('prices output alone when only output is reported', () => {
    expect(pricing.estimate('gpt-4o', usage({ outputTokens: 100 }))).toBeCloseTo((100 * 10) / 1e6, 15);
  });

  it.each([
    ['an unknown model', 'my-local-llama', usage({ inputTokens: 1000, outputTokens: 100 })],
    ['no model', null, usage({ inputTokens: 1000, outputTokens: 100 })],
    ['a known model without usage', 'gpt-4o', usage({})],
    ['a known model with only cached tokens', 'gpt-4o', usage({ cachedInputTokens: 100 })],
  ])('gives null (never 0) for %s', (_label, model, u) => {
    expect(pricing.estimate(model, u)).toBeNull();
  });

  it('gives 0 for a known model that reports zero tokens', () => {
    expect(pricing.estimate('gpt-4o', usage({ inputTokens: 0, outputTokens: 0 }))).toBe(0);
  });
});

describe('Pricing by date', () => {
  it.each([
    // o3 cost $10/$40 from its launch and $2/$8 from the price cut of 2025-06-10.
    ['2025-05-01T12:00:00Z', (1000 * 10 + 100 * 40) / 1e6],
    ['2025-06-09T23:59:59Z', (1000 * 10 + 100 * 40) / 1e6],
    ['2025-06-10T00:00:00Z', (1000 * 2 + 100 * 8) / 1e6],
    ['2026-01-01T00:00:00Z', (1000 * 2 + 100 * 8) / 1e6],
    // Before the first version: the oldest one.
    ['2024-01-01T00:00:00Z', (1000 * 10 + 100 * 40) / 1e6],
  ])('prices an o3 call at %s with the prices then in effect', (at, expected) => {
    expect(
      pricing.estimate('o3-2025-04-16', usage({ inputTokens: 1000, outputTokens: 100 }), at),
    ).toBeCloseTo(expected, 15);
  });

  it('uses the newest version without a date', () => {
    expect(pricing.find('o3')?.input).toBe(2);
  });
});

describe('Pricing of long-context tiers, reasoning and cache tokens', () => {
  it.each([
    // gemini-2.5-pro: $1.25/$10 up to 200k input tokens, $2.50/$15 for the whole call above.
    ['gemini-2.5-pro', 200_000, (200_000 * 1.25 + 1000 * 10) / 1e6],
    ['gemini-2.5-pro', 200_001, (200_001 * 2.5 + 1000 * 15) / 1e6],
    // claude-sonnet-4 and 4.5 with the 1M context: $3/$15, then $6/$22.50 above 200k.
    ['claude-sonnet-4-20250514', 150_000, (150_000 * 3 + 1000 * 15) / 1e6],
    ['claude-sonnet-4-5-20250929', 500_000, (500_000 * 6 + 1000 * 22.5) / 1e6],
    // gemini-1.5-pro's tier starts above 128k.
    ['gemini-1.5-pro-002', 130_000, (130_000 * 2.5 + 1000 * 10) / 1e6],
    // No tier: the same price at any length.
    ['gpt-4.1', 900_000, (900_000 * 2 + 1000 * 8) / 1e6],
  ])('prices %s with %i input tokens at its tier', (model, inputTokens, expected) => {
    expect(
      pricing.estimate(model, usage({ inputTokens, outputTokens: 1000 }), '2026-01-01T00:00:00Z'),
    ).toBeCloseTo(expected, 12);
  });

  it('prices cache reads and writes at the tier’s cache prices', () => {
    // claude-sonnet-4-5 above 200k: 250k input = 50k uncached at $6 + 150k read at $0.60 + 50k written at $7.50.
    const cost = pricing.estimate(
      'claude-sonnet-4-5',
      usage({ inputTokens: 250_000, cachedInputTokens: 150_000, cacheWriteTokens: 50_000, outputTokens: 0 }),
    );
    expect(cost).toBeCloseTo((50_000 * 6 + 150_000 * 0.6 + 50_000 * 7.5) / 1e6, 12);
  });

  it('prices reasoning tokens, part of the output, at the reasoning price when there is one', () => {
    const custom = new Pricing([{ provider: 'x', model: 'thinker', input: 1, output: 4, reasoning: 2 }]);
    expect(
      custom.estimate('thinker', usage({ inputTokens: 100, outputTokens: 300, reasoningTokens: 200 })),
    ).toBeCloseTo((100 * 1 + 100 * 4 + 200 * 2) / 1e6, 15);
    // Without a reasoning price they are output tokens like the others.
    expect(
      pricing.estimate('o3', usage({ inputTokens: 100, outputTokens: 300, reasoningTokens: 200 })),
    ).toBeCloseTo((100 * 2 + 300 * 8) / 1e6, 15);
  });
});

describe('Pricing.load with an override file', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'agentrace-pricing-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, content: unknown) => {
    const file = path.join(dir, name);
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
    return file;
  };

  it('adds new models, overrides shipped ones by name and keeps the rest', () => {
    const overridden = Pricing.load(
      write('prices.json', {
        models: [
          { provider: 'acme', model: 'acme-large', input: 4, output: 8 },
          { provider: 'openai', model: 'GPT-4o', input: 1, cached_input: 0.5, output: 2 },
        ],
      }),
    );
    expect(
      overridden.estimate('acme-large-2025-01-01', usage({ inputTokens: 1000, outputTokens: 100 })),
    ).toBeCloseTo((1000 * 4 + 100 * 8) / 1e6, 15);
    expect(
      overridden.estimate(
        'gpt-4o-2024-08-06',
        usage({ inputTokens: 1000, outputTokens: 100, cachedInputTokens: 200 }),
      ),
    ).toBeCloseTo((800 * 1 + 200 * 0.5 + 100 * 2) / 1e6, 15);
    expect(overridden.find('gpt-4o-mini')?.input).toBe(0.15);
    // The shipped table is untouched for loaders without the file.
    expect(Pricing.load().find('gpt-4o')?.input).toBe(2.5);
    expect(Pricing.load().find('acme-large')).toBeUndefined();
  });

  it('takes the whole price history of a model it names from the file', () => {
    const overridden = Pricing.load(
      write('o3.json', {
        models: [{ provider: 'openai', model: 'o3', effective_from: '2025-01-01', input: 1, output: 1 }],
      }),
    );
    // The shipped $10/$40 launch price no longer applies, whatever the date.
    expect(overridden.find('o3', '2025-05-01T00:00:00Z')?.input).toBe(1);
  });

  it.each([
    [
      'a bad effective date',
      { models: [{ provider: 'x', model: 'm', effective_from: 'May 1', input: 1, output: 1 }] },
    ],
    ['not JSON', 'not json'],
    ['a negative price', { models: [{ provider: 'x', model: 'm', input: -1, output: 1 }] }],
    ['a model without a name', { models: [{ provider: 'x', model: '', input: 1, output: 1 }] }],
    ['no models list', { prices: [] }],
  ])('refuses an override file with %s', (label, content) => {
    const file = write(`bad-${label.replace(/\W+/g, '-')}.json`, content);
    expect(() => Pricing.load(file)).toThrow();
  });
});
