import type { z } from 'zod';

/**
 * Parses the arguments of a helper call, or throws an error that names the helper and each problem: bad
 * arguments are a bug at the call site, to be seen at once rather than traced wrongly.
 */
export function parseArguments<S extends z.ZodType>(helper: string, schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new TypeError(`agentrace ${helper}(): ${describeIssues(parsed.error)}`);
}

/** `path: message; path: message`, for error messages and diag. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(value)'}: ${i.message}`)
    .join('; ');
}
