/**
 * The pause between two rounds of a polling worker (dispatcher, media copy, webhook deliveries,
 * campaign runner): sleeps until the poll interval ends or someone calls `wake()`.
 *
 * A wake that arrives while the worker is busy (not idle) is remembered, so the next `idle()`
 * returns at once instead of sleeping through work committed during the round; `beginRound()`
 * forgets wakes that the round about to start will see anyway.
 */
export class WakeableIdle {
  private requested = false;
  private wakeUp: (() => void) | null = null;

  /**
   * @param gatherMs after a wake, wait this long before returning, so the commits that arrive
   *   meanwhile join the same round (a burst makes a few batches instead of one round per item).
   */
  constructor(private readonly gatherMs = 0) {}

  /** Work is waiting: end the current idle (or skip the next one). */
  wake(): void {
    this.requested = true;
    this.wakeUp?.();
  }

  /** Called at the start of a round: wakes until now are served by this round. */
  beginRound(): void {
    this.requested = false;
  }

  /**
   * Sleeps up to `ms`, less if woken; at once if a wake came since the round began. `stopping`
   * skips the gather delay when the worker is shutting down. Resolves true when the whole
   * interval ran out (a poll), false when woken.
   */
  idle(ms: number, stopping: () => boolean = () => false): Promise<boolean> {
    if (this.requested) {
      this.requested = false;
      return Promise.resolve(false);
    }
    return new Promise((resolve) => {
      const onWake = () => {
        this.wakeUp = null;
        this.requested = false;
        clearTimeout(timer);
        if (this.gatherMs > 0 && !stopping()) setTimeout(() => resolve(false), this.gatherMs);
        else resolve(false);
      };
      const timer = setTimeout(() => {
        // A later wake must not reach this finished idle (it would swallow the wake).
        if (this.wakeUp === onWake) this.wakeUp = null;
        resolve(true);
      }, ms);
      this.wakeUp = onWake;
    });
  }
}
