import type { RequestContext } from '../../graphql/context.js';
import { contactLoader, messageLoader, phoneNumberLoader, userLoader } from '../../graphql/loaders.js';
import type { ContactRow } from '../contacts/contacts.schema.js';
import { contacts } from '../contacts/contacts.schema.js';
import type { ListJoin } from '../conversations/conversations.repository.js';
import { conversations } from '../conversations/conversations.schema.js';
import type { ConversationList } from '../conversations/conversations.service.js';
import { messages, type MessageRow } from '../messages/messages.schema.js';
import { phoneNumbers, type PhoneNumberRow } from '../phone-numbers/phone-numbers.schema.js';
import { users, type UserRow } from '../users/users.schema.js';

/**
 * The relation fields of Conversation an inbox page reads in its own statement, by GraphQL field
 * name: the join (same rows as the field's loader would fetch: the tenant's row by id) and how its
 * rows prime that loader, so the field resolvers find them without a statement of their own.
 * This module sits above conversations, contacts, users, phone numbers and messages, which is why
 * the `conversations` query lives here (messages depends on conversations, not the reverse).
 */
const PAGE_JOINS: ReadonlyArray<{ field: string; join: ListJoin; prime: (ctx: RequestContext, rows: Array<Record<string, unknown>>) => void }> = [
  {
    field: 'contact',
    join: { name: 'contact', table: contacts, via: conversations.contactId },
    prime: (ctx, rows) => primeAll(contactLoader(ctx), rows as ContactRow[]),
  },
  {
    field: 'assignee',
    join: { name: 'assignee', table: users, via: conversations.assigneeId },
    prime: (ctx, rows) => primeAll(userLoader(ctx), rows as UserRow[]),
  },
  {
    field: 'lastMessage',
    join: { name: 'last_message', table: messages, via: conversations.lastMessageId },
    prime: (ctx, rows) => primeAll(messageLoader(ctx), rows as MessageRow[]),
  },
  {
    field: 'phoneNumber',
    join: { name: 'phone_number', table: phoneNumbers, via: conversations.phoneNumberId },
    prime: (ctx, rows) => primeAll(phoneNumberLoader(ctx), rows as PhoneNumberRow[]),
  },
];

function primeAll<V extends { id: string }>(loader: { prime: (key: string, value: V | null) => unknown }, rows: V[]): void {
  for (const row of rows) loader.prime(row.id, row);
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
