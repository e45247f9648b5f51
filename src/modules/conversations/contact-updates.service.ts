import type { TenantScope } from '../../shared/deps.js';
import { notFound } from '../../shared/errors.js';
import { audit } from '../audit/audit.js';
import { ContactsRepository } from '../contacts/contacts.repository.js';
import type { ContactRow } from '../contacts/contacts.schema.js';
import { contactChanges } from '../contacts/contacts.service.js';
import type { UpdateContactInput } from '../contacts/update-contact.input.js';
import { contactUpdatedEvent, conversationRemovedEvent, conversationUpdatedEvent } from '../../events/live-events.js';
import { ConversationsRepository } from './conversations.repository.js';

/**
 * updateContact. Here rather than in contacts because blocking reaches conversations: a blocked
 * contact's live conversations are resolved in the same transaction (they leave every inbox, and
 * the contact's next texts join a RESOLVED conversation: see the ingest statement).
 */
export class ContactUpdatesService {
  constructor(private readonly scope: TenantScope) {}

  async update(id: string, input: UpdateContactInput): Promise<ContactRow> {
    const changes = contactChanges(input);
    const { tenantId } = this.scope;
    const result = await this.scope.deps.db.transaction(async (tx) => {
      const contact = await new ContactsRepository(tx, tenantId).update(id, changes);
      if (!contact) return undefined;
      const resolved = changes.blocked ? await new ConversationsRepository(tx, tenantId).resolveLiveOfContact(contact.id) : [];
      if (changes.blocked !== undefined) {
        await audit(this.scope).record(tx, { action: changes.blocked ? 'contact.block' : 'contact.unblock', targetType: 'contact', targetId: contact.id });
      }
      return { contact, resolved };
    });
    if (!result) throw notFound('Contact');
    // Name, block and opt-out changes reach every dashboard (composers of the contact's conversations).
    this.scope.deps.events.publish(
      contactUpdatedEvent(result.contact),
      ...result.resolved.map((conversationId) => conversationUpdatedEvent({ id: conversationId, tenantId })),
      // A blocked contact's conversations leave every list: dashboards drop them at once.
      ...(changes.blocked ? result.resolved.map((conversationId) => conversationRemovedEvent({ id: conversationId, tenantId })) : []),
    );
    return result.contact;
  }
}
