import type { Db } from '../../db/client.js';
import type { AppDeps } from '../../shared/deps.js';
import type { ConversationRow } from './conversations.schema.js';

/**
 * Called inside the transaction that moves a conversation to RESOLVED (automated RESOLVED text,
 * customer survey), so what it queues commits with the resolution or not at all; the returned
 * function runs after the commit. Registered by the automations module at start-up (it depends
 * on conversations, not the other way round). Keyed by the app's deps: tests run several apps.
 */
export type ResolutionHook = (tx: Db, conversation: ConversationRow, resolvedById: string | null) => Promise<() => void>;

const hooks = new WeakMap<AppDeps, ResolutionHook>();

export function onConversationResolved(deps: AppDeps, hook: ResolutionHook | null): void {
  if (hook) hooks.set(deps, hook);
  else hooks.delete(deps);
}

export function resolutionHookOf(deps: AppDeps): ResolutionHook | undefined {
  return hooks.get(deps);
}
