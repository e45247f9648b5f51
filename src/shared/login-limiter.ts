import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { DomainError, ErrorCode } from './errors.js';

/**
 * Failed log-ins are counted per (client address, email) and per client address, in memory
 * (per instance): a guessing client is refused with RATE_LIMITED until its window passes.
 */
export class LoginLimiter {
  private readonly perAccount: RateLimiterMemory;
  private readonly perClient: RateLimiterMemory;

  constructor(maxFailures: number, windowSeconds: number) {
    this.perAccount = new RateLimiterMemory({ points: maxFailures, duration: windowSeconds });
    this.perClient = new RateLimiterMemory({ points: maxFailures * 5, duration: windowSeconds });
  }

  private static keys(ip: string, email: string) {
    return { account: `${ip}|${email.toLowerCase()}`, client: ip };
  }

  /** Throws RATE_LIMITED when this client already used up its failures. */
  async assertAllowed(ip: string, email: string): Promise<void> {
    const keys = LoginLimiter.keys(ip, email);
    const [account, client] = await Promise.all([this.perAccount.get(keys.account), this.perClient.get(keys.client)]);
    const blocked = [account, client].find(
      (r): r is RateLimiterRes => r !== null && r.remainingPoints <= 0 && r.msBeforeNext > 0,
    );
    if (blocked) {
      const retryAfterSeconds = Math.ceil(blocked.msBeforeNext / 1000);
      throw new DomainError(ErrorCode.RATE_LIMITED, `Too many failed log-ins; try again in ${retryAfterSeconds} s`, {
        retryAfterSeconds,
      });
    }
  }

  async recordFailure(ip: string, email: string): Promise<void> {
    const keys = LoginLimiter.keys(ip, email);
    // consume() rejects once the points are gone; the next assertAllowed() reports it.
    await Promise.allSettled([this.perAccount.consume(keys.account), this.perClient.consume(keys.client)]);
  }

  async recordSuccess(ip: string, email: string): Promise<void> {
    await this.perAccount.delete(LoginLimiter.keys(ip, email).account);
  }
}
