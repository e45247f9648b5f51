/**
 * Wakes this instance's maintenance worker when deletions at Twilio were queued (AppDeps.twilioDeletions,
 * built in src/app.ts); other instances find them by polling.
 */
export class TwilioDeletionSignal {
  private waker: (() => void) | null = null;

  onQueued(wake: (() => void) | null): void {
    this.waker = wake;
  }

  notifyQueued(): void {
    this.waker?.();
  }
}
