import { TokenBuckets } from '@agentrace/store';

/** The tenant is over its ingest rate: the caller should retry after `retryAfterSeconds`. */
export class ThrottledError extends Error {
  override readonly name = 'ThrottledError';

  constructor(readonly retryAfterSeconds: number) {
    super(`ingest rate limit exceeded for this tenant; retry in ${retryAfterSeconds} s`);
  }
}

/**
 * Spans per second per tenant, with a burst of two seconds' worth. A request is admitted whole or not
 * at all, so a throttled request stores nothing and its retry is not a duplicate.
 */
export class IngestThrottle {
  private readonly buckets: TokenBuckets;

  constructor(spansPerSecond: number) {
    this.buckets = new TokenBuckets({ rate: spansPerSecond, burst: 2 * spansPerSecond });
  }

  /** Counts `spans` against the tenant, or throws ThrottledError. */
  admit(tenantId: string, spans: number): void {
    if (spans === 0) return;
    const take = this.buckets.take(tenantId, spans);
    if (!take.ok) throw new ThrottledError(take.retryAfterSeconds);
  }
}
