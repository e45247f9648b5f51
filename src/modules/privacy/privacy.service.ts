import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import type { TenantScope } from '../../shared/deps.js';
import { notFound } from '../../shared/errors.js';
import { isUuid } from '../../shared/ids.js';
import { columnList } from '../../db/sql.js';
import { audit } from '../audit/audit.js';
import { webhookDeliveries } from '../webhooks/webhooks.schema.js';
import { twilioDeletions } from './privacy.schema.js';
import { contacts } from '../contacts/contacts.schema.js';
import { conversations } from '../conversations/conversations.schema.js';
import { conversationRemovedEvent } from '../../events/live-events.js';
import { MessageDirection } from '../messages/message.enums.js';
import { messages } from '../messages/messages.schema.js';
import { notes } from '../notes/notes.schema.js';
import { phoneNumbers } from '../phone-numbers/phone-numbers.schema.js';

/** Most messages one export carries; a contact past it is exported newest first, truncated. */
export const MAX_EXPORTED_MESSAGES = 50_000;

/** Queues the Twilio deletion of the given messages (those Twilio knows: with a SID). */
export async function queueTwilioDeletions(tx: Db, tenantId: string, messageIds: SqlIdList): Promise<void> {
  const d = twilioDeletions;
  await tx.execute(sql`
    insert into ${d} (${columnList(d.tenantId, d.twilioAccountId, d.messageSid)})
    select ${messages.tenantId}, ${messages.twilioAccountId}, ${messages.twilioSid} from ${messages}
    where ${messages.tenantId} = ${tenantId}::uuid and ${messages.twilioSid} is not null and ${messageIds}
    on conflict (${columnList(d.twilioAccountId, d.messageSid)}) do nothing
  `);
}
type SqlIdList = ReturnType<typeof sql>;

/** Data-subject requests: export everything stored about a contact, or erase it. */
export class PrivacyService {
  constructor(private readonly scope: TenantScope) {}

  private async contact(db: Db, id: string) {
    if (!isUuid(id)) throw notFound('Contact');
    const [row] = await db.select().from(contacts).where(and(eq(contacts.tenantId, this.scope.tenantId), eq(contacts.id, id))).limit(1);
    if (!row) throw notFound('Contact');
    return row;
  }

  /** One JSON document: profile, conversations, messages (with media links). Audited. */
  async exportContact(id: string): Promise<string> {
    const { deps, tenantId } = this.scope;
    return deps.db.transaction(async (tx) => {
      const contact = await this.contact(tx, id);
      const threads = await tx
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
        .where(and(eq(conversations.tenantId, tenantId), eq(conversations.contactId, contact.id)))
        .orderBy(asc(conversations.createdAt));
      const rows =
        threads.length === 0
          ? []
          : await tx
              .select()
              .from(messages)
              .where(and(eq(messages.tenantId, tenantId), inArray(messages.conversationId, threads.map((t) => t.id))))
              .orderBy(asc(messages.createdAt), asc(messages.id))
              .limit(MAX_EXPORTED_MESSAGES);
      const noteRows =
        threads.length === 0
          ? []
          : await tx
              .select({ id: notes.id, conversationId: notes.conversationId, authorId: notes.authorId, body: notes.body, createdAt: notes.createdAt })
              .from(notes)
              .where(and(eq(notes.tenantId, tenantId), inArray(notes.conversationId, threads.map((t) => t.id))))
              .orderBy(asc(notes.createdAt), asc(notes.id));
      const document = {
        exportedAt: new Date().toISOString(),
        contact: {
          id: contact.id,
          phoneNumber: contact.phoneNumber,
          name: contact.name,
          optedOut: contact.optedOut,
          optedOutAt: contact.optedOutAt,
          city: contact.city,
          state: contact.state,
          zip: contact.zip,
          country: contact.country,
          createdAt: contact.createdAt,
        },
        conversations: threads.map((t) => ({
          ...t,
          notes: noteRows.filter((n) => n.conversationId === t.id).map(({ conversationId: _c, ...n }) => n),
          messages: rows
            .filter((m) => m.conversationId === t.id)
            .map((m) => ({
              id: m.id,
              direction: m.direction,
              source: m.source,
              body: m.body,
              status: m.status,
              twilioSid: m.twilioSid,
              authorId: m.authorId,
              createdAt: m.createdAt,
              media: m.media.map((item, index) => ({
                contentType: item.contentType,
                url: m.direction === MessageDirection.INBOUND ? deps.mediaLinks.sign(deps.config.publicUrl, { tenantId, messageId: m.id, index }) : item.url,
              })),
            })),
        })),
        truncated: rows.length >= MAX_EXPORTED_MESSAGES,
      };
      await audit(this.scope).record(tx, { action: 'contact.export', targetType: 'contact', targetId: contact.id });
      return JSON.stringify(document);
    });
  }

  /**
   * Deletes the contact's conversations with their messages, media and notes, and its name and
   * location; queues the deletion of the messages (and their media) at Twilio. Keeps the phone
   * number and opt-out state, so a STOP is still honoured, and an audit event.
   */
  async eraseContact(id: string): Promise<boolean> {
    const { deps, tenantId } = this.scope;
    const removed = await deps.db.transaction(async (tx) => {
      const contact = await this.contact(tx, id);
      const threads = await tx
        .select({ id: conversations.id })
        .from(conversations)
        .where(and(eq(conversations.tenantId, tenantId), eq(conversations.contactId, contact.id)));
      const ids = threads.map((t) => t.id);
      if (ids.length > 0) {
        await queueTwilioDeletions(tx, tenantId, inArray(messages.conversationId, ids));
        // Webhook payloads carry bodies too.
        await tx.delete(webhookDeliveries).where(and(eq(webhookDeliveries.tenantId, tenantId), inArray(webhookDeliveries.orderingKey, ids)));
        // Messages (and their outbox jobs) go with their conversations (ON DELETE CASCADE).
        await tx.delete(conversations).where(and(eq(conversations.tenantId, tenantId), inArray(conversations.id, ids)));
      }
      await tx
        .update(contacts)
        .set({ name: null, city: null, state: null, zip: null, country: null, updatedAt: sql`now()` })
        .where(and(eq(contacts.tenantId, tenantId), eq(contacts.id, contact.id)));
      await audit(this.scope).record(tx, { action: 'contact.erase', targetType: 'contact', targetId: contact.id });
      return ids;
    });
    deps.events.publish(...removed.map((conversationId) => conversationRemovedEvent({ id: conversationId, tenantId })));
    deps.twilioDeletions.notifyQueued();
    deps.logger.info({ tenantId, contactId: id, conversations: removed.length }, 'contact erased');
    return true;
  }
}
