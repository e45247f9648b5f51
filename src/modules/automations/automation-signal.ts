import type { AppDeps } from '../../shared/deps.js';

/**
 * Lets whoever keeps automated texts in memory (the fallback URL's FAILURE texts) hear that one
 * changed in this instance; other instances catch up at their next refresh. Keyed by the app's
 * deps: tests run several apps in one process.
 */
const listeners = new WeakMap<AppDeps, () => void>();

export function onAutomatedMessagesChanged(deps: AppDeps, listener: (() => void) | null): void {
  if (listener) listeners.set(deps, listener);
  else listeners.delete(deps);
}

export function notifyAutomatedMessagesChanged(deps: AppDeps): void {
  listeners.get(deps)?.();
}
