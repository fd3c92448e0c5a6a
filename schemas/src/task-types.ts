import { z } from 'zod';

/**
 * The task types a model call can serve (`agentrace.task.type`), so calls of the same purpose can be
 * compared across models and providers. Agents may register more (`registerTaskType` in
 * `@agentrace/instrumentation`); a registered name must be a `TaskTypeName`.
 */
export const KNOWN_TASK_TYPES = [
  'coach',
  'safety',
  'plan',
  'code',
  'chat',
  'summarize',
  'classify',
  'extract',
  'evaluate',
  'route',
  'other',
] as const;

export const KnownTaskType = z.enum(KNOWN_TASK_TYPES);
export type KnownTaskType = z.infer<typeof KnownTaskType>;

/** A task type as it may appear on the wire: lowercase, starting with a letter, at most 64 characters. */
export const TaskTypeName = z
  .string()
  .regex(
    /^[a-z][a-z0-9_.-]{0,63}$/,
    'a lowercase name of letters, digits, "_", "-" or "." starting with a letter',
  );
