import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../../db/client.js';
import { columnList } from '../../db/sql.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { isUuid } from '../../shared/ids.js';
import { contacts, type ContactRow } from '../contacts/contacts.schema.js';
import { conversations } from '../conversations/conversations.schema.js';
import { messages, type MessageRow } from '../messages/messages.schema.js';
import { notes } from '../notes/notes.schema.js';
import { phoneNumbers } from '../phone-numbers/phone-numbers.schema.js';
import { webhookDeliveries } from '../webhooks/webhooks.schema.js';
import { twilioDeletions } from './privacy.schema.js';

export interface ExportedThread {
  id: string;
  status: string;
  assigneeId: string | null;
  phoneNumber: string;
  createdAt: Date;
  lastMessageAt: Date;
}

export interface ClaimedTwilioDeletion {
  id: number;
  tenantId: string;
  twilioAccountId: string;
  messageSid: string;
  attempts: number;
}

/** Export, erasure and retention of one tenant's data. */
export class PrivacyRepository extends TenantRepository {
  async contact(id: string): Promise<ContactRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db.select().from(contacts).where(this.scoped(contacts, eq(contacts.id, id))).limit(1);
    return row;
  }

  /** The contact's conversations, oldest first, with the number they are on. */
  threadsOf(contactId: string): Promise<ExportedThread[]> {
    return this.db
      .select({
        id: conversations.id,
        status: conversations.status,
        assigneeId: conversations.assigneeId,
        phoneNumber: phoneNumbers.e164,
        createdAt: conversations.createdAt,
        lastMessageAt: conversations.lastMessageAt,
      })
      .from(conversations)
      .innerJoin(phoneNumbers, and(eq(phoneNumbers.tenantId, conversations.tenantId), eq(phoneNumbers.id, conversations.phoneNumberId)))
      .where(this.scoped(conversations, eq(conversations.contactId, contactId)))
      .orderBy(asc(conversations.createdAt));
  }

  async conversationIdsOf(contactId: string): Promise<string[]> {
    const rows = await this.db.select({ id: conversations.id }).from(conversations).where(this.scoped(conversations, eq(conversations.contactId, contactId)));
    return rows.map((r) => r.id);
  }

  messagesOf(conversationIds: readonly string[], limit: number): Promise<MessageRow[]> {
    if (conversationIds.length === 0) return Promise.resolve([]);
    return this.db
      .select()
      .from(messages)
      .where(this.scoped(messages, inArray(messages.conversationId, [...conversationIds])))
      .orderBy(asc(messages.createdAt), asc(messages.id))
      .limit(limit);
  }

  notesOf(conversationIds: readonly string[]) {
    if (conversationIds.length === 0) return Promise.resolve([]);
    return this.db
      .select({ id: notes.id, conversationId: notes.conversationId, authorId: notes.authorId, body: notes.body, createdAt: notes.createdAt })
      .from(notes)
      .where(this.scoped(notes, inArray(notes.conversationId, [...conversationIds])))
      .orderBy(asc(notes.createdAt), asc(notes.id));
  }

  /** Queues the Twilio deletion of these conversations' messages (those Twilio knows: with a SID). */
  async queueTwilioDeletions(conversationIds: readonly string[]): Promise<void> {
    if (conversationIds.length === 0) return;
    const d = twilioDeletions;
    const m = messages;
    await this.db.execute(sql`
      insert into ${d} (${columnList(d.tenantId, d.twilioAccountId, d.messageSid)})
      select ${m.tenantId}, ${m.twilioAccountId}, ${m.twilioSid} from ${m}
      where ${m.tenantId} = ${this.tenantId}::uuid and ${m.twilioSid} is not null
        and ${m.conversationId} in (${sql.join(conversationIds.map((id) => sql`${id}::uuid`), sql`, `)})
      on conflict (${columnList(d.twilioAccountId, d.messageSid)}) do nothing
    `);
  }

  /** Erasure: the conversations (their messages, outbox jobs and notes go with them: ON DELETE CASCADE) and their webhook payloads. */
  async deleteConversations(conversationIds: readonly string[]): Promise<void> {
    if (conversationIds.length === 0) return;
    const ids = [...conversationIds];
    // Webhook payloads carry bodies too.
    await this.db.delete(webhookDeliveries).where(this.scoped(webhookDeliveries, inArray(webhookDeliveries.orderingKey, ids)));
    await this.db.delete(conversations).where(this.scoped(conversations, inArray(conversations.id, ids)));
  }

  /** Erasure keeps the phone number and opt-out state (a STOP is still honoured), nothing else. */
  async clearContactDetails(contactId: string): Promise<void> {
    await this.db
      .update(contacts)
      .set({ name: null, city: null, state: null, zip: null, country: null, updatedAt: sql`now()` })
      .where(this.scoped(contacts, eq(contacts.id, contactId)));
  }

  /**
   * Retention: one batch of messages older than `cutoff` (oldest first, SKIP LOCKED: instances
   * share the work), deleted with their Twilio deletion queued. Returns how many went.
   */
  async deleteMessagesBefore(cutoff: Date, batchSize: number): Promise<number> {
    const m = messages;
    const d = twilioDeletions;
    const result = await this.db.execute(sql`
      with doomed as (
        select ${m.id} as id, ${m.twilioAccountId} as account_id, ${m.twilioSid} as sid from ${m}
        where ${m.tenantId} = ${this.tenantId}::uuid and ${m.createdAt} < ${cutoff.toISOString()}::timestamptz
        order by ${m.createdAt}
        limit ${batchSize}
        for update skip locked
      ),
      queued as (
        insert into ${d} (${columnList(d.tenantId, d.twilioAccountId, d.messageSid)})
        select ${this.tenantId}::uuid, account_id, sid from doomed where sid is not null
        on conflict (${columnList(d.twilioAccountId, d.messageSid)}) do nothing
      )
      delete from ${m} using doomed where ${m.id} = doomed.id
      returning ${m.id}
    `);
    return rowsOf(result).length;
  }

  /** Retention: one batch of finished webhook deliveries (their payloads) older than `cutoff`. */
  async deleteWebhookDeliveriesBefore(cutoff: Date, batchSize: number): Promise<number> {
    const w = webhookDeliveries;
    const result = await this.db.execute(sql`
      delete from ${w} where ${w.id} in (
        select ${w.id} from ${w}
        where ${w.tenantId} = ${this.tenantId}::uuid and ${w.createdAt} < ${cutoff.toISOString()}::timestamptz and ${w.status} <> 'PENDING'
        limit ${batchSize}
      )
      returning ${w.id}
    `);
    return rowsOf(result).length;
  }
}

/** The Twilio deletions due now, leased (SKIP LOCKED: instances share the queue), of every tenant. */
export async function claimTwilioDeletions(db: Db, limit: number, leaseSeconds: number): Promise<ClaimedTwilioDeletion[]> {
  const t = twilioDeletions;
  return rowsOf<ClaimedTwilioDeletion>(
    await db.execute(sql`
      with due as (
        select ${t.id} as id from ${t}
        where ${t.nextAttemptAt} <= now() and (${t.lockedUntil} is null or ${t.lockedUntil} < now())
        order by ${t.id} limit ${limit}
        for update skip locked
      )
      update ${t} set ${sql.identifier(t.lockedUntil.name)} = now() + ${leaseSeconds} * interval '1 second',
        ${sql.identifier(t.attempts.name)} = ${t.attempts} + 1
      from due where ${t.id} = due.id
      returning ${t.id} as id, ${t.tenantId} as "tenantId", ${t.twilioAccountId} as "twilioAccountId", ${t.messageSid} as "messageSid",
        ${t.attempts} as attempts
    `),
  ).map((r) => ({ ...r, id: Number(r.id) }));
}

/** Done (or given up): the leased job goes. */
export async function finishTwilioDeletion(db: Db, id: number): Promise<void> {
  await db.delete(twilioDeletions).where(eq(twilioDeletions.id, id));
}

/** Tried again after `delayMs`. */
export async function retryTwilioDeletion(db: Db, id: number, error: string | null, delayMs: number): Promise<void> {
  await db
    .update(twilioDeletions)
    .set({ lockedUntil: null, lastError: error, nextAttemptAt: sql`now() + ${delayMs} * interval '1 millisecond'` })
    .where(eq(twilioDeletions.id, id));
}
