import type { TenantScope } from '../../shared/deps.js';
import { notFound } from '../../shared/errors.js';
import { audit } from '../audit/audit.js';
import { conversationRemovedEvent } from '../../events/live-events.js';
import { MessageDirection } from '../messages/message.enums.js';
import { PrivacyRepository } from './privacy.repository.js';

/** Most messages one export carries; a contact past it is exported newest first, truncated. */
export const MAX_EXPORTED_MESSAGES = 50_000;

/** Data-subject requests: export everything stored about a contact, or erase it. */
export class PrivacyService {
  constructor(private readonly scope: TenantScope) {}

  private async contact(repo: PrivacyRepository, id: string) {
    const row = await repo.contact(id);
    if (!row) throw notFound('Contact');
    return row;
  }

  /** One JSON document: profile, conversations, messages (with media links). Audited. */
  async exportContact(id: string): Promise<string> {
    const { deps, tenantId } = this.scope;
    return deps.db.transaction(async (tx) => {
      const repo = new PrivacyRepository(tx, tenantId);
      const contact = await this.contact(repo, id);
      const threads = await repo.threadsOf(contact.id);
      const threadIds = threads.map((t) => t.id);
      const rows = await repo.messagesOf(threadIds, MAX_EXPORTED_MESSAGES);
      const noteRows = await repo.notesOf(threadIds);
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
      const repo = new PrivacyRepository(tx, tenantId);
      const contact = await this.contact(repo, id);
      const ids = await repo.conversationIdsOf(contact.id);
      await repo.queueTwilioDeletions(ids);
      await repo.deleteConversations(ids);
      await repo.clearContactDetails(contact.id);
      await audit(this.scope).record(tx, { action: 'contact.erase', targetType: 'contact', targetId: contact.id });
      return ids;
    });
    deps.events.publish(...removed.map((conversationId) => conversationRemovedEvent({ id: conversationId, tenantId })));
    deps.twilioDeletions.notifyQueued();
    deps.logger.info({ tenantId, contactId: id, conversations: removed.length }, 'contact erased');
    return true;
  }
}
