import { z } from 'zod';
import { UuidParam } from './query.ts';
import { Step } from './wire.ts';

/**
 * What a diff ignores when it compares aligned steps (API.md `GET /v1/diff`): `default` compares type,
 * name, status, error and payload minus ids, timestamps and durations; `strict` everything but ids;
 * `structure` type and name only.
 */
export const NormalizeProfile = z.enum(['default', 'strict', 'structure']);
export type NormalizeProfile = z.infer<typeof NormalizeProfile>;

/** `GET /v1/diff` query string. */
export const DiffQuery = z
  .object({ runA: UuidParam, runB: UuidParam, normalize_profile: NormalizeProfile.default('default') })
  .strict();
export type DiffQuery = z.infer<typeof DiffQuery>;

export const DiffOp = z.enum(['equal', 'changed', 'added', 'removed']);
export type DiffOp = z.infer<typeof DiffOp>;

/** One difference between aligned steps: a JSONPath into the step and both values (null when absent). */
export const StepChange = z.object({ path: z.string(), a: z.unknown(), b: z.unknown() });
export type StepChange = z.infer<typeof StepChange>;

export const DiffStep = z.object({
  op: DiffOp,
  a: Step.nullable(),
  b: Step.nullable(),
  changes: z.array(StepChange),
});
export type DiffStep = z.infer<typeof DiffStep>;

export const DIFF_METRICS = [
  'duration_ms',
  'cost_usd',
  'input_tokens',
  'output_tokens',
  'step_count',
  'tool_count',
  'error_count',
] as const;
export type DiffMetric = (typeof DIFF_METRICS)[number];

export const MetricDelta = z.object({
  a: z.number().nullable(),
  b: z.number().nullable(),
  delta: z.number().nullable(),
});
export type MetricDelta = z.infer<typeof MetricDelta>;

/** The answer of `GET /v1/diff`: summary deltas (b − a) and the aligned steps in run order. */
export const RunDiff = z.object({
  summary: z.record(z.enum(DIFF_METRICS), MetricDelta),
  steps: z.array(DiffStep),
});
export type RunDiff = z.infer<typeof RunDiff>;
