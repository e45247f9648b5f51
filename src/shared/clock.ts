/**
 * The server's notion of "now" for business rules (operating hours, survey windows). Injected
 * through AppDeps so tests can set the time instead of waiting for Monday; database timestamps
 * (created_at, leases) keep using the database clock.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock that says what it is told; for tests and the sandbox. */
export class ManualClock implements Clock {
  private current: number;

  constructor(start: Date | string = new Date()) {
    this.current = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  set(at: Date | string): void {
    this.current = new Date(at).getTime();
  }

  advance(ms: number): void {
    this.current += ms;
  }
}
