import { HttpError } from '@agentrace/schemas';
import { type BucketLimits, type Pool, TokenBuckets } from '@agentrace/store';
import type { NextFunction, Request, Response } from 'express';
import { requestPrincipal } from './request-principal.ts';

/**
 * Rate limits every request, first thing: one token bucket per API key, or per client address for a
 * request without a valid key (so 401s are limited too). Every answer carries X-RateLimit-Limit (the
 * bucket size), X-RateLimit-Remaining and X-RateLimit-Reset (seconds until the bucket is full); past the
 * limit it is 429 `rate_limited` with Retry-After. In memory: see TokenBuckets.
 */
export function rateLimit(pool: Pool, limits: BucketLimits) {
  const buckets = new TokenBuckets(limits);
  return async (req: Request, res: Response, next: NextFunction) => {
    // A failed lookup is auth's to report; the request is still counted, by address.
    const principal = await requestPrincipal(pool, req).catch(() => null);
    const take = buckets.take(
      principal ? `key:${principal.keyId}` : `ip:${req.socket.remoteAddress ?? 'unknown'}`,
    );
    res.setHeader('X-RateLimit-Limit', String(take.limit));
    res.setHeader('X-RateLimit-Remaining', String(take.remaining));
    res.setHeader('X-RateLimit-Reset', String(take.resetSeconds));
    if (!take.ok) {
      res.setHeader('Retry-After', String(take.retryAfterSeconds));
      throw new HttpError(
        'rate_limited',
        `rate limit of ${limits.rate} requests per second exceeded; retry in ${take.retryAfterSeconds} s`,
      );
    }
    next();
  };
}
