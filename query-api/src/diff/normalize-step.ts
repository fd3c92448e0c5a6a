import type { NormalizeProfile, Step } from '@agentrace/schemas';

// Ids differ between any two runs: our own, OTel's, and those inside payloads (`gen_ai.response.id`,
// `tool_call_id`, `traceId`, `agentrace.run.id`, ...).
const ID_KEY = /(^|[._-])ids?$/i;
const ID_KEY_CAMEL = /[a-z0-9]Ids?$/;
// Timestamps and durations: `ts`, `timestamp`, `created_at`, `startTimeUnixNano`, `latency_ms`, ...
const TIME_KEY =
  /(^|[._-])(ts|time|timestamp|date|duration|latency|elapsed)([._-]?(ms|us|ns|s|seconds|unix_?nano))?$/i;
const TIME_SUFFIX = /(^|[._-])(at|ms|ns)$/i;
const TIME_KEY_CAMEL = /[a-z0-9](Time|Timestamp|At|Ms|Duration|Latency|UnixNano)$/;

/** Whether a payload key names an id, which no profile compares. */
export const isIdKey = (key: string): boolean => ID_KEY.test(key) || ID_KEY_CAMEL.test(key);

/** Whether a payload key names a timestamp or a duration, which the default profile does not compare. */
export const isTimeKey = (key: string): boolean =>
  TIME_KEY.test(key) || TIME_SUFFIX.test(key) || TIME_KEY_CAMEL.test(key);

// Step fields that are ids (or, like seq and payload_hash, positions and digests of what is compared).
const ID_FIELDS = new Set([
  'step_id',
  'run_id',
  'parent_step_id',
  'trace_id',
  'span_id',
  'decision_token_id',
  'seq',
  'payload_hash',
]);

const idOrTime = (key: string) => isIdKey(key) || isTimeKey(key);

/** What a profile compares of a step: its fields as plain JSON, and the keys to skip inside them. */
export interface ComparableStep {
  view: Record<string, unknown>;
  skip: (key: string) => boolean;
}

/**
 * The part of a step that `profile` compares, whose paths are the step's own (`$.status`,
 * `$.payload.output.text`), and the keys that the comparison skips at any depth. `structure` compares
 * nothing beyond the type and name the alignment matched. Identical payloads (equal hashes) are left out.
 */
export function comparableStep(step: Step, profile: NormalizeProfile, samePayload = false): ComparableStep {
  switch (profile) {
    case 'structure':
      return { view: {}, skip: isIdKey };
    case 'default': {
      const view: Record<string, unknown> = {
        type: step.type,
        name: step.name,
        status: step.status,
        error: step.error,
      };
      if (!samePayload) view.payload = step.payload;
      return { view, skip: idOrTime };
    }
    case 'strict': {
      const view: Record<string, unknown> = {};
      for (const [field, value] of Object.entries(step)) if (!ID_FIELDS.has(field)) view[field] = value;
      if (samePayload) delete view.payload;
      return { view, skip: isIdKey };
    }
  }
}
