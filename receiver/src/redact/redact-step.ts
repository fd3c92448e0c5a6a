import { canonicalJson, type RedactionMeta, sha256Tagged } from '@agentrace/schemas';
import { RedactionLog, type RedactorRules, redactString, redactValue } from './redactor.ts';

/** Everything of a step that is stored and can hold text, before redaction. */
export interface StepText<F extends object> {
  name: string;
  error: { type: string | null; message: string | null; stack: string | null };
  /** The jsonb payload: input, output, attributes, events, ... */
  payload: Record<string, unknown>;
  /**
   * The step's typed fields (model, tool, agent, session, run tags, ...) by their camelCase names:
   * strings get the value rules, objects of strings (tags) the key rules too, other values are kept.
   */
  facts: F;
}

export interface RedactedStep<F extends object> {
  name: string;
  error: StepText<F>['error'];
  facts: F;
  /** Canonical JSON of the redacted payload: exactly what is stored. */
  payloadJson: string;
  /** Over `payloadJson`, so the hash is of what is stored. */
  payloadHash: string;
  redactionMeta: RedactionMeta;
}

/**
 * The one redaction entry point of every ingest path (OTLP spans, native REST steps): redacts all of a
 * step's text, serializes the payload and hashes it. `inherited` holds redactions already made on what the
 * step shares with others (its resource and scope), so its meta lists them too.
 * @example redactStep(rules, { name, error, payload, facts: { toolName } }).payloadJson
 */
export function redactStep<F extends object>(
  rules: RedactorRules,
  step: StepText<F>,
  inherited?: RedactionLog,
): RedactedStep<F> {
  const log = new RedactionLog(inherited);
  const text = (value: string | null, path: string) =>
    value === null ? null : redactString(value, path, log, rules);
  const name = redactString(step.name, '$.name', log, rules);
  const error = {
    type: text(step.error.type, '$.error.type'),
    message: text(step.error.message, '$.error.message'),
    stack: text(step.error.stack, '$.error.stack'),
  };
  const facts: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(step.facts)) {
    const path = factPath(key);
    if (typeof value === 'string') facts[key] = redactString(value, path, log, rules);
    else if (value !== null && typeof value === 'object') facts[key] = redactValue(value, path, log, rules);
    else facts[key] = value;
  }
  const payloadJson = canonicalJson(redactValue(step.payload, '$', log, rules));
  return {
    name,
    error,
    facts: facts as F,
    payloadJson,
    payloadHash: sha256Tagged(payloadJson),
    redactionMeta: log.toMeta(),
  };
}

/**
 * A run's own name and tags, as declared over native REST, by the same rules (a run keeps no
 * redaction_meta: its steps do).
 */
export function redactRunLabels(rules: RedactorRules, run: { name: string; tags: Record<string, string> }) {
  const log = new RedactionLog();
  return {
    name: redactString(run.name, '$.name', log, rules),
    tags: redactValue(run.tags, '$.tags', log, rules) as Record<string, string>,
  };
}

const snakeCase = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

// Facts are the few fields of a step (model, toolName...): their paths are built once, not per step.
const factPaths = new Map<string, string>();
function factPath(key: string): string {
  let path = factPaths.get(key);
  if (path === undefined) {
    path = `$.${snakeCase(key)}`;
    factPaths.set(key, path);
  }
  return path;
}
