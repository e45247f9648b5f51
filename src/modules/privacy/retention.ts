import type { AppDeps } from '../../shared/deps.js';
import { TenantsRepository } from '../tenants/tenants.repository.js';
import { PrivacyRepository } from './privacy.repository.js';

export interface RetentionResult {
  messagesDeleted: number;
  tenants: number;
}

/**
 * Deletes, for every tenant with retentionDays, the messages (with their media and outbox jobs)
 * and webhook payloads older than that, and queues their deletion at Twilio. Small batches, each
 * its own short transaction, rows locked with SKIP LOCKED: never a long lock, and two instances
 * running it at once share the work. The audit trail is not touched (kept regardless).
 * `now` is injectable for tests.
 */
export async function runRetention(deps: AppDeps, opts: { now?: Date } = {}): Promise<RetentionResult> {
  const now = opts.now ?? new Date();
  const batchSize = deps.config.retention.batchSize;
  const tenants = await new TenantsRepository(deps.db).withRetention();
  let messagesDeleted = 0;
  for (const tenant of tenants) {
    const cutoff = new Date(now.getTime() - tenant.retentionDays * 86_400_000);
    // Each batch its own short transaction (the delete and its Twilio deletions together).
    for (;;) {
      const deleted = await deps.db.transaction((tx) => new PrivacyRepository(tx, tenant.id).deleteMessagesBefore(cutoff, batchSize));
      messagesDeleted += deleted;
      if (deleted < batchSize) break;
    }
    const repo = new PrivacyRepository(deps.db, tenant.id);
    while ((await repo.deleteWebhookDeliveriesBefore(cutoff, batchSize)) >= batchSize);
  }
  // The Twilio deletions just queued start now, not at the worker's next poll.
  if (messagesDeleted > 0) deps.twilioDeletions.notifyQueued();
  if (messagesDeleted > 0) deps.logger.info({ messagesDeleted, tenants: tenants.length }, 'retention: old messages deleted');
  return { messagesDeleted, tenants: tenants.length };
}
