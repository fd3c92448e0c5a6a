import { type AttributeValue, context, type Link, type Span, SpanKind } from '@opentelemetry/api';
import { type AgentScope, withScope } from './agent-scope.ts';
import { definedAttributes } from './defined-attributes.ts';
import { runInSpan, type SpanHooks } from './span-lifecycle.ts';
import { tracer } from './tracer.ts';

export interface TracedSpec<T> extends SpanHooks<T> {
  name: string;
  kind?: SpanKind;
  /** Undefined values are left out. */
  attributes: Record<string, AttributeValue | undefined>;
  /** What the spans started inside inherit. */
  scope: AgentScope;
  /** Start a new trace instead of a child of the active span. */
  root?: boolean;
  links?: Link[];
}

/** Starts an active span as `spec` says, runs `fn` in it and ends it (see `runInSpan`). */
export function traced<T>(spec: TracedSpec<T>, fn: (span: Span) => T): T {
  const ctx = withScope(context.active(), spec.scope);
  const options = {
    kind: spec.kind ?? SpanKind.INTERNAL,
    attributes: definedAttributes(spec.attributes),
    root: spec.root,
    links: spec.links,
  };
  return tracer().startActiveSpan(spec.name, options, ctx, (span) => runInSpan(span, fn, spec));
}
