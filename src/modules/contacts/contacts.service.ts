import type { TenantScope } from '../../shared/deps.js';
import { badInput, notFound } from '../../shared/errors.js';
import { parseSearch } from '../../shared/search.js';
import { contactUpdatedEvent, conversationUpdatedEvent } from '../live/live-events.js';
import { decodeCursor, pageSize, toPage, type Page } from '../conversations/pagination.js';
import { ContactsRepository, type ContactChanges } from './contacts.repository.js';
import type { ContactRow } from './contacts.schema.js';
import type { UpdateContactInput } from './update-contact.input.js';

export const MAX_CONTACT_NAME_LENGTH = 200;

export interface ListContactsArgs {
  first?: number | null;
  after?: string | null;
  search?: string | null;
}

/** The tenant's contacts: every user of the tenant reads and edits them (they are not per team). */
export class ContactsService {
  private readonly contacts: ContactsRepository;

  constructor(private readonly scope: TenantScope) {
    this.contacts = new ContactsRepository(scope.deps.db, scope.tenantId);
  }

  async list(args: ListContactsArgs): Promise<Page<ContactRow>> {
    const limit = pageSize(args.first);
    const after = decodeCursor(args.after, 'after');
    const search = parseSearch(args.search);
    return toPage(await this.contacts.list(limit, after, search), limit, after !== null);
  }

  async get(id: string): Promise<ContactRow | null> {
    return (await this.contacts.findById(id)) ?? null;
  }

  /**
   * Name and block. Blocking resolves the contact's live conversations (they leave every inbox);
   * every change publishes contactUpdated so dashboards update their composers.
   */
  async update(id: string, input: UpdateContactInput): Promise<ContactRow> {
    const changes: ContactChanges = {};
    if (input.name !== undefined) {
      const name = input.name?.trim() ?? '';
      if (name.length > MAX_CONTACT_NAME_LENGTH) throw badInput(`name may have at most ${MAX_CONTACT_NAME_LENGTH} characters`, 'name');
      changes.name = name === '' ? null : name;
    }
    if (input.blocked !== undefined) {
      if (input.blocked === null) throw badInput('blocked cannot be null', 'blocked');
      changes.blocked = input.blocked;
    }
    const updated = await this.contacts.update(id, changes);
    if (!updated) throw notFound('Contact');
    const { tenantId } = this.scope;
    this.scope.deps.events.publish(
      contactUpdatedEvent(updated.contact),
      ...updated.resolvedConversationIds.map((conversationId) => conversationUpdatedEvent({ id: conversationId, tenantId })),
    );
    return updated.contact;
  }
}
