import type DataLoader from 'dataloader';
import type { RequestContext } from '../../graphql/context.js';
import { ContactsRepository } from '../contacts/contacts.repository.js';
import type { ContactRow } from '../contacts/contacts.schema.js';
import { MessagesRepository, type MessagePageRow } from '../messages/messages.repository.js';
import type { MessageRow } from '../messages/messages.schema.js';
import type { PhoneNumberRow } from '../phone-numbers/phone-numbers.schema.js';
import { UsersRepository } from '../users/users.repository.js';
import type { UserRow } from '../users/users.schema.js';
import type { KeysetCursor } from './pagination.js';
import { PhoneNumbersRepository } from '../phone-numbers/phone-numbers.repository.js';
import { ConversationLabelsRepository } from './conversation-labels.repository.js';

/**
 * Per-operation DataLoaders behind the relation fields of conversations and messages: one query
 * per relation per level of a result, bound to the caller's tenant, whatever the page size.
 */
export function contactLoader(ctx: RequestContext): DataLoader<string, ContactRow | null> {
  return ctx.byId('contacts.byId', (ids) => new ContactsRepository(ctx.deps.db, ctx.scope().tenantId).findByIds(ids));
}

export function phoneNumberLoader(ctx: RequestContext): DataLoader<string, PhoneNumberRow | null> {
  return ctx.byId('phoneNumbers.byId', (ids) => new PhoneNumbersRepository(ctx.deps.db, ctx.scope().tenantId).findByIds(ids));
}

export function userLoader(ctx: RequestContext): DataLoader<string, UserRow | null> {
  return ctx.byId('users.byId', (ids) => new UsersRepository(ctx.deps.db, ctx.scope().tenantId).findByIds(ids));
}

export function messageLoader(ctx: RequestContext): DataLoader<string, MessageRow | null> {
  return ctx.byId('messages.byId', (ids) => new MessagesRepository(ctx.deps.db, ctx.scope().tenantId).findByIds(ids));
}

/** Labels of every conversation of a result, in one query. */
export function labelsLoader(ctx: RequestContext): DataLoader<string, string[]> {
  return ctx.loader<string, string[]>('conversationLabels.byConversation', async (conversationIds) => {
    const byConversation = await new ConversationLabelsRepository(ctx.deps.db, ctx.scope().tenantId).byConversation(conversationIds);
    return conversationIds.map((id) => byConversation.get(id) ?? []);
  });
}

/** Message pages of many conversations with the same (first, before), in one query. */
export function messagePageLoader(ctx: RequestContext, limit: number, before: KeysetCursor | null): DataLoader<string, MessagePageRow[]> {
  const name = `messages.page:${limit}:${before ? `${before.ts}|${before.id}` : ''}`;
  return ctx.loader<string, MessagePageRow[]>(name, async (conversationIds) => {
    const rows = await new MessagesRepository(ctx.deps.db, ctx.scope().tenantId).pages(conversationIds, limit, before);
    const byConversation = new Map<string, MessagePageRow[]>();
    for (const r of rows) {
      let list = byConversation.get(r.row.conversationId);
      if (!list) byConversation.set(r.row.conversationId, (list = []));
      list.push(r);
    }
    return conversationIds.map((id) => byConversation.get(id) ?? []);
  });
}
