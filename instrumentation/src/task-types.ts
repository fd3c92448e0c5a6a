import { KNOWN_TASK_TYPES, type KnownTaskType, TaskTypeName } from '@agentrace/schemas';
import { parseArguments } from './call-site.ts';

const registered = new Set<string>(KNOWN_TASK_TYPES);

/**
 * A known task type, or one registered with `registerTaskType`.
 * @example const taskType: TaskType = 'coach';
 */
export type TaskType = KnownTaskType | (string & {});

/**
 * Adds a task type beyond the known ones (`coach`, `safety`, `plan`, `code`, `chat`, `summarize`,
 * `classify`, `extract`, `evaluate`, `route`, `other`), so `traceModelCall` accepts it.
 * @example
 * registerTaskType('translate');
 * await traceModelCall({ taskType: 'translate', provider: 'openai', model: 'gpt-4o-mini' }, () => translate(text));
 */
export function registerTaskType(name: string): void {
  registered.add(parseArguments('registerTaskType', TaskTypeName, name));
}

/** The task type, or a TypeError naming the known ones: a typo must not silently become a new category. */
export function assertTaskType(taskType: string): string {
  if (registered.has(taskType)) return taskType;
  throw new TypeError(
    `agentrace traceModelCall(): unknown task type "${taskType}"; known: ${[...registered].join(', ')} ` +
      `(add your own with registerTaskType("${taskType}"))`,
  );
}
