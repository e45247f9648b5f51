import type { AppDeps } from '../../shared/deps.js';

/** Lets the inbound webhook wake this instance's media-copy worker (others find jobs by polling). */
const wakers = new WeakMap<AppDeps, () => void>();

export function onMediaCopyEnqueued(deps: AppDeps, wake: (() => void) | null): void {
  if (wake) wakers.set(deps, wake);
  else wakers.delete(deps);
}

export function notifyMediaCopy(deps: AppDeps): void {
  wakers.get(deps)?.();
}
