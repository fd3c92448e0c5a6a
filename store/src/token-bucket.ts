/** `rate` tokens per second refill a bucket that holds at most `burst`. */
export interface BucketLimits {
  rate: number;
  burst: number;
}

/** The outcome of one `take`, with what the X-RateLimit-* and Retry-After headers report. */
export interface Take {
  ok: boolean;
  /** The bucket's size. */
  limit: number;
  /** Whole tokens left after this take. */
  remaining: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
  /** Seconds to wait before the refused cost fits (0 when taken). */
  retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

const seconds = () => performance.now() / 1000;

/**
 * Token buckets by key (an API key, a client address, a tenant), in this process's memory: with several
 * replicas each keeps its own, so the effective limit is the limit times the replicas. Pure apart from the
 * clock, which tests inject.
 * @example const b = new TokenBuckets({ rate: 50, burst: 100 }); if (!b.take(keyId).ok) answer429();
 */
export class TokenBuckets {
  // Map order is least recently used first, so the oldest bucket is the one to drop when full; a dropped
  // bucket comes back full, the state of any bucket left idle for burst/rate seconds.
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly limits: BucketLimits,
    private readonly now: () => number = seconds,
    private readonly maxKeys = 100_000,
  ) {
    if (!(limits.rate > 0 && limits.burst >= 1)) throw new RangeError('rate must be > 0 and burst >= 1');
  }

  /**
   * Takes `cost` tokens from `key`'s bucket if they are there. A cost above the whole bucket is taken
   * when the bucket is full, leaving it in debt: such a request is possible, and paid for.
   */
  take(key: string, cost = 1): Take {
    const { rate, burst } = this.limits;
    const now = this.now();
    const bucket = this.buckets.get(key);
    let tokens = bucket ? Math.min(burst, bucket.tokens + (now - bucket.at) * rate) : burst;
    const ok = tokens >= cost || tokens >= burst;
    if (ok) tokens -= cost;
    this.buckets.delete(key);
    this.buckets.set(key, { tokens, at: now });
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    return {
      ok,
      limit: burst,
      remaining: Math.max(0, Math.floor(tokens)),
      resetSeconds: Math.ceil((burst - tokens) / rate),
      retryAfterSeconds: ok ? 0 : Math.max(1, Math.ceil((Math.min(cost, burst) - tokens) / rate)),
    };
  }
}
