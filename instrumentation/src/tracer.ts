import { type Tracer, trace } from '@opentelemetry/api';

/**
 * The instrumentation scope name our spans carry, to tell them from other instrumentations' spans.
 * @example const ours = spans.filter((s) => s.instrumentationScope.name === SCOPE_NAME);
 */
export const SCOPE_NAME = '@agentrace/instrumentation';

/**
 * Our tracer from the global TracerProvider, looked up per span so that a provider registered after this
 * module was imported (or replaced in tests) is the one that records.
 */
export const tracer = (): Tracer => trace.getTracer(SCOPE_NAME);
