import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { DomainError, ErrorCode } from './errors.js';

export interface LoginLimits {
  /** Failed log-ins per email within the window (any address). */
  maxFailures: number;
  /** Failed log-ins per client address within the window (any email). */
  maxFailuresPerAddress: number;
  windowSeconds: number;
}

/**
 * Log-in throttling, in memory per instance. Consume-before-check: each attempt reserves a point
 * per email and per client address BEFORE the password is checked, so a burst of parallel
 * guesses cannot all pass a check made before any failure was recorded. A success gives its
 * points back. The two counts are separate: one address guessing many emails is stopped by its
 * address count, many addresses guessing one email by the email count, and one client's failures
 * never count against another client's email.
 */
export class LoginLimiter {
  private readonly perEmail: RateLimiterMemory;
  private readonly perAddress: RateLimiterMemory;

  constructor(limits: LoginLimits) {
    this.perEmail = new RateLimiterMemory({ keyPrefix: 'login-email', points: limits.maxFailures, duration: limits.windowSeconds });
    this.perAddress = new RateLimiterMemory({ keyPrefix: 'login-ip', points: limits.maxFailuresPerAddress, duration: limits.windowSeconds });
  }

  /** Reserves one attempt; throws RATE_LIMITED when either count is used up. */
  async reserve(ip: string, email: string): Promise<void> {
    const results = await Promise.allSettled([this.perEmail.consume(email.toLowerCase()), this.perAddress.consume(ip)]);
    const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (!refused) return;
    if (!(refused.reason instanceof RateLimiterRes)) throw refused.reason;
    throw rateLimited(refused.reason.msBeforeNext, 'Too many failed log-ins');
  }

  /** The attempt succeeded: its reservation is returned and the email's failures forgotten. */
  async succeeded(ip: string, email: string): Promise<void> {
    await Promise.allSettled([this.perEmail.delete(email.toLowerCase()), this.perAddress.reward(ip, 1)]);
  }
}

/**
 * Sign-ups per client address: without email verification each one creates a workspace, and an
 * answer of "email taken" is unavoidable, so the rate is what bounds enumeration and spam.
 */
export class SignUpLimiter {
  private readonly perAddress: RateLimiterMemory;

  constructor(maxPerAddress: number, windowSeconds: number) {
    this.perAddress = new RateLimiterMemory({ keyPrefix: 'signup-ip', points: maxPerAddress, duration: windowSeconds });
  }

  async reserve(ip: string): Promise<void> {
    try {
      await this.perAddress.consume(ip);
    } catch (err) {
      if (err instanceof RateLimiterRes) throw rateLimited(err.msBeforeNext, 'Too many sign-ups from this address');
      throw err;
    }
  }
}

function rateLimited(msBeforeNext: number, what: string): DomainError {
  const retryAfterSeconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
  return new DomainError(ErrorCode.RATE_LIMITED, `${what}; try again in ${retryAfterSeconds} s`, { retryAfterSeconds });
}
