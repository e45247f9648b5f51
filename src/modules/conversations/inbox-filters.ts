import { sql, type SQL } from 'drizzle-orm';
import { foldedLike, likeFolded, type SearchTerm } from '../../shared/search.js';
import { conversationLabels, conversations } from './conversations.schema.js';
import { pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { contacts } from '../contacts/contacts.schema.js';

/** The inbox tools' filters of the conversations list (issue 11), kept apart from the routing ones. */
export interface InboxFilter {
  /** Parsed by parseSearch: message text, contact name, digits of the contact's number. */
  search?: SearchTerm | null;
  /** A label, matched case-insensitively (see labelKey). */
  label?: string | null;
  contactId?: string | null;
}

/**
 * The columns of `messages` a search reads, declared here: the messages module depends on
 * conversations, so conversations may not import its schema. `body_folded` is the generated
 * column of migration inbox_search_sql (inbox_fold(body), trigram-indexed). Read-only; not in
 * src/db/schema.ts, so drizzle-kit never sees it as a table of its own.
 */
const searchableMessages = pgTable('messages', {
  tenantId: uuid('tenant_id').notNull(),
  conversationId: uuid('conversation_id').notNull(),
  bodyFolded: text('body_folded').notNull(),
});

/** Above this many matching messages a search walks the inbox in order instead of collecting them all. */
const DENSE_MATCHES = 2000;

/** How a label is compared: trimmed, lower-cased. */
export function labelKey(label: string): string {
  return label.trim().toLowerCase();
}

/**
 * WHERE conditions on `conversations` for one tenant, added to the list query beside the other
 * filters. Postgres walks the activity index until the page is full and checks each row against
 * sets computed once (hashed SubPlans over the trigram and label indexes); only a search term in
 * very many texts is checked per conversation instead (see below).
 */
export function inboxFilterConditions(tenantId: string, filter: InboxFilter): SQL[] {
  const conditions: SQL[] = [
    // A blocked contact's conversations leave the inbox until they are unblocked (nothing is deleted).
    sql`not exists (select 1 from ${contacts} where ${contacts.tenantId} = ${conversations.tenantId}
      and ${contacts.id} = ${conversations.contactId} and ${contacts.blocked})`,
  ];
  if (filter.contactId) conditions.push(sql`${conversations.contactId} = ${filter.contactId}::uuid`);
  if (filter.label !== null && filter.label !== undefined) {
    conditions.push(sql`${conversations.id} in (select ${conversationLabels.conversationId} from ${conversationLabels}
      where ${conversationLabels.tenantId} = ${tenantId}::uuid and ${conversationLabels.key} = ${labelKey(filter.label)})`);
  }
  const search = filter.search;
  if (search) {
    const contactMatch = search.digitsPattern
      ? sql`(${foldedLike(contacts.name, search.pattern)} or ${contacts.phoneNumber} like ${search.digitsPattern})`
      : foldedLike(contacts.name, search.pattern);
    const messages = searchableMessages;
    const textMatch = sql`${messages.tenantId} = ${tenantId}::uuid and ${likeFolded(messages.bodyFolded, search.pattern)}`;
    // Two ways to find the conversations whose texts match, picked at run time in the statement:
    // - a rare term: the matching messages (trigram index) as a hashed set, then the activity index;
    // - a common one (more than DENSE_MATCHES messages): the activity index, checking each
    //   conversation's messages until the page is full; collecting 60,000 matches first took
    //   ~200 ms where this takes 1 ms. The LIMIT keeps the planner from hashing that subquery.
    conditions.push(sql`(
      (case when (select count(*) from (select 1 from ${messages} where ${textMatch} limit ${DENSE_MATCHES + 1}) as sample) <= ${DENSE_MATCHES}
        then ${conversations.id} in (select ${messages.conversationId} from ${messages} where ${textMatch})
        else coalesce((select true from ${messages} where ${textMatch} and ${messages.conversationId} = ${conversations.id} limit 1), false)
      end)
      or ${conversations.contactId} in (select ${contacts.id} from ${contacts}
        where ${contacts.tenantId} = ${tenantId}::uuid and ${contactMatch}))`);
  }
  return conditions;
}
