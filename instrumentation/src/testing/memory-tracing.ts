import { context, type DiagLogger, DiagLogLevel, diag, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll } from 'vitest';

/**
 * Registers a real global TracerProvider whose finished spans stay in memory, with the async context
 * manager a Node agent uses, and a diag logger that keeps what it is told; all reset after each test.
 */
export function useMemoryTracing() {
  const memory = new InMemorySpanExporter();
  const diagnostics: { level: 'error' | 'warn'; message: string }[] = [];
  const logger: DiagLogger = {
    error: (message) => diagnostics.push({ level: 'error', message }),
    warn: (message) => diagnostics.push({ level: 'warn', message }),
    info: () => {},
    debug: () => {},
    verbose: () => {},
  };
  beforeAll(() => {
    trace.disable();
    context.disable();
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(
      new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] }),
    );
    diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  });
  afterEach(() => {
    memory.reset();
    diagnostics.length = 0;
  });
  afterAll(() => {
    trace.disable();
    context.disable();
    diag.disable();
  });
  return {
    diagnostics,
    spans: (): ReadableSpan[] => memory.getFinishedSpans(),
    /** The one finished span named `name`. */
    span(name: string): ReadableSpan {
      const found = memory.getFinishedSpans().filter((s) => s.name === name);
      if (found.length !== 1) throw new Error(`expected one span "${name}", found ${found.length}`);
      return found[0]!;
    },
  };
}
