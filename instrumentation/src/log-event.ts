import { AGENTRACE, AgentEvent } from '@agentrace/schemas';
import { type Attributes, diag, trace } from '@opentelemetry/api';
import { jsonAttribute } from './json-attribute.ts';
import { validateInput } from './invalid-input.ts';

/**
 * Logs a structured event on the current step, validated against its schema (`AgentEvent` in
 * `@agentrace/schemas`: `message`, `decision`, `observation`, `metric`, `feedback`, `custom`) before it is
 * emitted as the span event `agentrace.event.<type>`. An invalid event throws a TypeError outside
 * production and is dropped, counted and reported through OTel `diag` in production (`NODE_ENV=production`).
 * @example
 * logEvent({ type: 'decision', choice: 'search', reason: 'no sources yet', alternatives: ['answer'] });
 * logEvent({ type: 'metric', name: 'relevance', value: 0.82 });
 */
export function logEvent(event: AgentEvent): void {
  const valid = validateInput('logEvent', AgentEvent, event);
  if (valid === undefined) return;
  const span = trace.getActiveSpan();
  if (!span?.isRecording()) {
    diag.warn(`agentrace logEvent(): no step is active, the ${valid.type} event was not recorded`);
    return;
  }
  const { type, ...fields } = valid;
  const attributes: Attributes = {};
  for (const [key, value] of Object.entries(fields)) {
    const attribute = isPrimitiveOrStrings(value) ? value : jsonAttribute(value);
    if (attribute !== undefined) attributes[`${AGENTRACE.eventPrefix}${key}`] = attribute;
  }
  span.addEvent(`${AGENTRACE.eventPrefix}${type}`, attributes);
}

const isPrimitiveOrStrings = (value: unknown): value is string | number | boolean | string[] =>
  ['string', 'number', 'boolean'].includes(typeof value) ||
  (Array.isArray(value) && value.every((v) => typeof v === 'string'));
