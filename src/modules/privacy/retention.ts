import { sql } from 'drizzle-orm';
import { rowsOf } from '../../db/client.js';
import type { AppDeps } from '../../shared/deps.js';
import { columnList } from '../../db/sql.js';
import { messages } from '../messages/messages.schema.js';
import { TenantsRepository } from '../tenants/tenants.repository.js';
import { webhookDeliveries } from '../webhooks/webhooks.schema.js';
import { twilioDeletions } from './privacy.schema.js';

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
        const m = messages;
        const d = twilioDeletions;
        const result = await tx.execute(sql`
          with doomed as (
            select ${m.id} as id, ${m.twilioAccountId} as account_id, ${m.twilioSid} as sid from ${m}
            where ${m.tenantId} = ${tenant.id}::uuid and ${m.createdAt} < ${cutoff}::timestamptz
            order by ${m.createdAt}
            limit ${batchSize}
            for update skip locked
          ),
          queued as (
            insert into ${d} (${columnList(d.tenantId, d.twilioAccountId, d.messageSid)})
            select ${tenant.id}::uuid, account_id, sid from doomed where sid is not null
            on conflict (${columnList(d.twilioAccountId, d.messageSid)}) do nothing
          )
          delete from ${m} using doomed where ${m.id} = doomed.id
          returning ${m.id}
        `);
        return rowsOf<{ id: string }>(result).length;
      });
      messagesDeleted += deleted;
      if (deleted < batchSize) break;
    }
    for (;;) {
      const w = webhookDeliveries;
      const result = await deps.db.execute(sql`
        delete from ${w} where ${w.id} in (
          select ${w.id} from ${w}
          where ${w.tenantId} = ${tenant.id}::uuid and ${w.createdAt} < ${cutoff}::timestamptz and ${w.status} <> 'PENDING'
          limit ${batchSize}
        )
        returning ${w.id}
      `);
      if (rowsOf(result).length < batchSize) break;
    }
  }
  if (messagesDeleted > 0) deps.logger.info({ messagesDeleted, tenants: tenants.length }, 'retention: old messages deleted');
  return { messagesDeleted, tenants: tenants.length };
}
