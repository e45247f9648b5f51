import { DomainError, ErrorCode } from './errors.js';

export interface LoginLimits {
  /** Failed log-ins per email within the window (any address). */
  maxFailures: number;
  /** Failed log-ins per client address within the window (any email). */
  maxFailuresPerAddress: number;
  windowSeconds: number;
}

/**
 * Fixed-window attempt counters shared by every instance (implemented on the database by
 * src/modules/users/attempt-counters.ts), so a limit holds however attempts are spread over
 * instances behind a balancer.
 */
export interface AttemptCounters {
  /** Takes one point; returns the points taken in the current window and the ms until it ends. */
  consume(key: string, windowSeconds: number): Promise<{ points: number; msBeforeNext: number }>;
  reward(key: string): Promise<void>;
  delete(key: string): Promise<void>;
}

/**
 * Log-in throttling. Consume-before-check: each attempt reserves a point per email and per client
 * address BEFORE the password is checked, so a burst of parallel guesses (on one instance or
 * several) cannot all pass a check made before any failure was recorded. A success gives its
 * points back. The two counts are separate: one address guessing many emails is stopped by its
 * address count, many addresses guessing one email by the email count, and one client's failures
 * never count against another client's email.
 */
export class LoginLimiter {
  constructor(
    private readonly counters: AttemptCounters,
    private readonly limits: LoginLimits,
  ) {}

  /** Reserves one attempt; throws RATE_LIMITED when either count is used up. */
  async reserve(ip: string, email: string): Promise<void> {
    const [byEmail, byAddress] = await Promise.all([
      this.counters.consume(emailKey(email), this.limits.windowSeconds),
      this.counters.consume(addressKey(ip), this.limits.windowSeconds),
    ]);
    const over = [
      byEmail.points > this.limits.maxFailures ? byEmail.msBeforeNext : null,
      byAddress.points > this.limits.maxFailuresPerAddress ? byAddress.msBeforeNext : null,
    ].filter((ms): ms is number => ms !== null);
    if (over.length > 0) throw rateLimited(Math.max(...over), 'Too many failed log-ins');
  }

  /** The attempt succeeded: its reservation is returned and the email's failures forgotten. */
  async succeeded(ip: string, email: string): Promise<void> {
    await Promise.allSettled([this.counters.delete(emailKey(email)), this.counters.reward(addressKey(ip))]);
  }
}

const emailKey = (email: string) => `login-email:${email.toLowerCase()}`;
const addressKey = (ip: string) => `login-ip:${ip}`;

/**
 * Sign-ups per client address: without email verification each one creates a workspace, and an
 * answer of "email taken" is unavoidable, so the rate is what bounds enumeration and spam.
 */
export class SignUpLimiter {
  constructor(
    private readonly counters: AttemptCounters,
    private readonly maxPerAddress: number,
    private readonly windowSeconds: number,
  ) {}

  async reserve(ip: string): Promise<void> {
    const { points, msBeforeNext } = await this.counters.consume(`signup-ip:${ip}`, this.windowSeconds);
    if (points > this.maxPerAddress) throw rateLimited(msBeforeNext, 'Too many sign-ups from this address');
  }
}

function rateLimited(msBeforeNext: number, what: string): DomainError {
  const retryAfterSeconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
  return new DomainError(ErrorCode.RATE_LIMITED, `${what}; try again in ${retryAfterSeconds} s`, { retryAfterSeconds });
}
