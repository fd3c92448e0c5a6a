/**
 * The failure types of a tool or artifact invocation (`error.type`), as the invocation stats group them.
 * @example const type: InvocationErrorType = 'timeout';
 */
export type InvocationErrorType = 'timeout' | 'validation' | 'permission' | 'execution';

/**
 * An invocation failure of a known type: throw it from a traced function to set `error.type` exactly.
 * @example
 * await traceTool('transfer', () => {
 *   if (amount <= 0) throw new InvocationError('validation', 'amount must be positive');
 *   return ledger.transfer(amount);
 * }, { artifactId: 'contract:ledger', method: 'transfer' });
 */
export class InvocationError extends Error {
  override readonly name = 'InvocationError';

  constructor(
    readonly type: InvocationErrorType | (string & {}),
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

const TIMEOUT_NAMES = new Set(['TimeoutError', 'AbortError']);
const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);
const PERMISSION_CODES = new Set(['EACCES', 'EPERM']);

/**
 * The failure type of what a traced function threw, when it says one: an `InvocationError`'s type, a
 * timeout (`TimeoutError`, `AbortError`, `ETIMEDOUT`), a validation failure (a `ZodError`), a permission
 * failure (`EACCES`, `EPERM`, HTTP 401/403). Undefined otherwise, for the caller's fallback.
 * @example errorTypeOf(new InvocationError('permission', 'no access')) // 'permission'
 */
export function errorTypeOf(error: unknown): string | undefined {
  if (error instanceof InvocationError) return error.type;
  if (typeof error !== 'object' || error === null) return undefined;
  const { name, code, status } = error as { name?: unknown; code?: unknown; status?: unknown };
  if (TIMEOUT_NAMES.has(String(name)) || TIMEOUT_CODES.has(String(code))) return 'timeout';
  if (name === 'ZodError') return 'validation';
  if (PERMISSION_CODES.has(String(code)) || status === 401 || status === 403) return 'permission';
  return undefined;
}

/** The class name of what was thrown (`TypeError`), the OTel fallback `_OTHER` for non-errors. */
export function errorClassOf(error: unknown): string {
  return error instanceof Error ? error.name : '_OTHER';
}
