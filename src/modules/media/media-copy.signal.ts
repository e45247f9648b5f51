import type { MediaCopyPort } from '../../shared/deps.js';

/**
 * AppDeps.mediaCopy: the inbound webhook wakes this instance's media-copy worker after it
 * committed copy jobs (other instances find them by polling).
 */
export class MediaCopySignal implements MediaCopyPort {
  private waker: (() => void) | null = null;

  onEnqueued(wake: (() => void) | null): void {
    this.waker = wake;
  }

  notifyEnqueued(): void {
    this.waker?.();
  }
}
