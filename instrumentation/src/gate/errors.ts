/**
 * The policy said no: the tool is blocked, a person denied the call, or its approval request expired
 * unanswered (a final deny). The tool did not run.
 * @example
 * try { await guardTool('delete_user', { id }, () => users.delete(id)); }
 * catch (err) { if (err instanceof ToolDeniedError) return `not allowed: ${err.reason}`; throw err; }
 */
export class ToolDeniedError extends Error {
  override readonly name = 'ToolDeniedError';

  constructor(
    readonly toolName: string,
    /** Why, as the server put it (the policy rule's reason, the approver's comment, or the expiry). */
    readonly reason: string | null,
    /** The rule that blocked it, or the approval that was denied or expired. */
    readonly ruleId: string | null,
    readonly approvalId: string | null,
  ) {
    super(`agentrace: ${toolName} was denied${reason ? `: ${reason}` : ''}`);
  }
}

/**
 * The call waits for a person and nobody decided within `waitMs`. The request stays pending on the
 * server (it may still be approved, for a later call); the tool did not run.
 * @example
 * try { await guardTool('send_email', mail, send, { waitMs: 60_000 }); }
 * catch (err) { if (err instanceof ApprovalTimeoutError) queueForLater(err.approvalId); else throw err; }
 */
export class ApprovalTimeoutError extends Error {
  override readonly name = 'ApprovalTimeoutError';

  constructor(
    readonly toolName: string,
    readonly approvalId: string,
    readonly waitedMs: number,
  ) {
    super(`agentrace: no decision on ${toolName} within ${waitedMs} ms (approval ${approvalId})`);
  }
}

/**
 * The server's answer did not hold up locally: a token that does not verify with the server's public key,
 * has expired, or names another run, tool or arguments than the call. The tool did not run.
 */
export class InvalidDecisionTokenError extends Error {
  override readonly name = 'InvalidDecisionTokenError';

  constructor(
    readonly toolName: string,
    readonly reason: string,
  ) {
    super(`agentrace: the decision token for ${toolName} is not valid: ${reason}`);
  }
}

/**
 * The gate could not get a decision (no configuration, the server unreachable or refusing the request).
 * The gate fails closed: the tool did not run.
 */
export class GateRequestError extends Error {
  override readonly name = 'GateRequestError';

  constructor(
    message: string,
    /** The HTTP status, when the server answered. */
    readonly status: number | null = null,
    /** The error envelope's code, when the server answered one. */
    readonly code: string | null = null,
    options?: ErrorOptions,
  ) {
    super(`agentrace: ${message}`, options);
  }
}
