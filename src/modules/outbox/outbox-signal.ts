import type { AppDeps } from '../../shared/deps.js';

/**
 * Lets a service that just committed outbox jobs wake this instance's dispatcher, so a reply
 * leaves at once instead of at the next poll. Keyed by the app's deps: tests and benchmarks run
 * several apps in one process, each with its own dispatcher. Other instances find the jobs by
 * polling.
 */
const wakers = new WeakMap<AppDeps, () => void>();

export function onOutboxEnqueued(deps: AppDeps, wake: (() => void) | null): void {
  if (wake) wakers.set(deps, wake);
  else wakers.delete(deps);
}

export function notifyOutboxEnqueued(deps: AppDeps): void {
  wakers.get(deps)?.();
}
