import type { AppDeps } from '../../shared/deps.js';

/** Wakes this instance's maintenance worker when deletions at Twilio were queued (others poll). */
const wakers = new WeakMap<AppDeps, () => void>();

export function onTwilioDeletionsQueued(deps: AppDeps, wake: (() => void) | null): void {
  if (wake) wakers.set(deps, wake);
  else wakers.delete(deps);
}

export function notifyTwilioDeletionsQueued(deps: AppDeps): void {
  wakers.get(deps)?.();
}
