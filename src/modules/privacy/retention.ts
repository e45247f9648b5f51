import { sql } from 'drizzle-orm';
import { rowsOf } from '../../db/client.js';
import type { AppDeps } from '../../shared/deps.js';
import { TenantsRepository } from '../tenants/tenants.repository.js';

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
    const cutoff = new Date(now.getTime() - tenant.retentionDays * 86_400_000).toISOString();
    for (;;) {
      const deleted = await deps.db.transaction(async (tx) => {
        const result = await tx.execute(sql`
          with doomed as (
            select id, twilio_account_id, twilio_sid from messages
            where tenant_id = ${tenant.id}::uuid and created_at < ${cutoff}::timestamptz
            order by created_at
            limit ${batchSize}
            for update skip locked
          ),
          queued as (
            insert into twilio_deletions (tenant_id, twilio_account_id, message_sid)
            select ${tenant.id}::uuid, twilio_account_id, twilio_sid from doomed where twilio_sid is not null
            on conflict (twilio_account_id, message_sid) do nothing
          )
          delete from messages m using doomed where m.id = doomed.id
          returning m.id
        `);
        return rowsOf<{ id: string }>(result).length;
      });
      messagesDeleted += deleted;
      if (deleted < batchSize) break;
    }
    for (;;) {
      const result = await deps.db.execute(sql`
        delete from webhook_deliveries where id in (
          select id from webhook_deliveries
          where tenant_id = ${tenant.id}::uuid and created_at < ${cutoff}::timestamptz and status <> 'PENDING'
          limit ${batchSize}
        )
        returning id
      `);
      if (rowsOf(result).length < batchSize) break;
    }
  }
  if (messagesDeleted > 0) deps.logger.info({ messagesDeleted, tenants: tenants.length }, 'retention: old messages deleted');
  return { messagesDeleted, tenants: tenants.length };
}
