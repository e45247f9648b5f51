import type { WorkerWakePort } from './deps.js';

/**
 * A polling worker's wake-up within this instance: whoever commits work for it says so after the
 * commit, and the worker starts a round at once instead of at its next poll (other instances find
 * the work by polling).
 */
export class WorkerSignal implements WorkerWakePort {
  private waker: (() => void) | null = null;

  onWake(wake: (() => void) | null): void {
    this.waker = wake;
  }

  wake(): void {
    this.waker?.();
  }
}
