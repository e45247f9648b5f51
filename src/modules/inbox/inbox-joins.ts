import type { RequestContext, RowLoader } from '../../graphql/context.js';
import { contactLoader, messageLoader, phoneNumberLoader, userLoader } from '../../graphql/loaders.js';
import { contacts } from '../contacts/contacts.schema.js';
import type { ListJoin } from '../conversations/conversations.repository.js';
import { conversations } from '../conversations/conversations.schema.js';
import type { ConversationList } from '../conversations/conversations.service.js';
import { messages } from '../messages/messages.schema.js';
import { phoneNumbers } from '../phone-numbers/phone-numbers.schema.js';
import { users } from '../users/users.schema.js';

/**
 * The relation fields of Conversation an inbox page reads in its own statement, by GraphQL field
 * name: the join (same rows as the field's loader would fetch: the tenant's row by id) and how its
 * rows prime that loader, so the field resolvers find them without a statement of their own.
 * This module sits above conversations, contacts, users, phone numbers and messages, which is why
 * the `conversations` query lives here (messages depends on conversations, not the reverse).
 */
const PAGE_JOINS: readonly PageJoin[] = [
  relation('contact', { name: 'contact', table: contacts, via: conversations.contactId }, contactLoader),
  relation('assignee', { name: 'assignee', table: users, via: conversations.assigneeId }, userLoader),
  relation('lastMessage', { name: 'last_message', table: messages, via: conversations.lastMessageId }, messageLoader),
  relation('phoneNumber', { name: 'phone_number', table: phoneNumbers, via: conversations.phoneNumberId }, phoneNumberLoader),
];

interface PageJoin {
  field: string;
  join: ListJoin;
  prime: (ctx: RequestContext, rows: Array<Record<string, unknown>>) => void;
}

/** A relation field, its join, and its loader (told the joined rows, which are that loader's rows). */
function relation<V extends { id: string }>(field: string, join: ListJoin, loader: (ctx: RequestContext) => RowLoader<V>): PageJoin {
  return { field, join, prime: (ctx, rows) => loader(ctx).known(rows as unknown as V[]) };
}

/** The joins the selected fields of a page's nodes need. */
export function joinsFor(selected: ReadonlySet<string>): ListJoin[] {
  return PAGE_JOINS.filter((j) => selected.has(j.field)).map((j) => j.join);
}

/** Primes each joined relation's loader with the rows the page's statement read. */
export function primeLoaders(ctx: RequestContext, list: ConversationList): void {
  for (const j of PAGE_JOINS) {
    const rows = list.joined[j.join.name];
    if (rows) j.prime(ctx, rows);
  }
}
