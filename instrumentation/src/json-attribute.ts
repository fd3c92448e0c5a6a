import { diag } from '@opentelemetry/api';

/** `value` as a JSON string attribute, or undefined (and a diag warning) when it cannot be serialized. */
export function jsonAttribute(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  try {
    return JSON.stringify(value);
  } catch (error) {
    diag.warn('agentrace: a value could not be serialized to JSON and was not recorded', error);
    return undefined;
  }
}
