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

  it.each(['llama-3.1-70b', 'my-finetune', 'gpt-4', 'gpt4o', 'claude', ''])(
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

  it.each([
    ['not JSON', 'not json'],
    ['a negative price', { models: [{ provider: 'x', model: 'm', input: -1, output: 1 }] }],
    ['a model without a name', { models: [{ provider: 'x', model: '', input: 1, output: 1 }] }],
    ['no models list', { prices: [] }],
  ])('refuses an override file with %s', (label, content) => {
    const file = write(`bad-${label.replace(/\W+/g, '-')}.json`, content);
    expect(() => Pricing.load(file)).toThrow();
  });
});
