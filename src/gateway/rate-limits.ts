import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { ApiError } from '../protocol/api-error.js';

/** Token buckets per user and per IP (one-second windows). Over the limit: 429 `rate_limited` with Retry-After. */
export class RateLimits {
  private readonly perUser: RateLimiterMemory;
  private readonly perIp: RateLimiterMemory;

  constructor(options: { perUserPerSecond: number; perIpPerSecond: number }) {
    this.perUser = new RateLimiterMemory({ keyPrefix: 'user', points: options.perUserPerSecond, duration: 1 });
    this.perIp = new RateLimiterMemory({ keyPrefix: 'ip', points: options.perIpPerSecond, duration: 1 });
  }

  async checkIp(ip: string): Promise<void> {
    await consume(this.perIp, ip);
  }

  async checkUser(userId: string): Promise<void> {
    await consume(this.perUser, userId);
  }
}

async function consume(limiter: RateLimiterMemory, key: string): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (error) {
    if (error instanceof RateLimiterRes) {
      throw new ApiError('rate_limited', `too many requests; retry in ${Math.ceil(error.msBeforeNext / 1000)} s`, { retryAfterS: Math.max(1, Math.ceil(error.msBeforeNext / 1000)) });
    }
    throw error;
  }
}
