import type DataLoader from 'dataloader';
import type { RequestContext } from '../../graphql/context.js';
import type { KeysetCursor } from '../../graphql/pagination.js';
import type { ConversationListRow } from './conversations.repository.js';

/**
 * Contact.conversations pages of every contact of a result with the same (first, after), in one
 * query (request-scoped, like the loaders of src/graphql/loaders.ts; kept here because only this
 * module's resolver uses it). The caller's visibility applies.
 */
export function contactConversationsLoader(ctx: RequestContext, limit: number, after: KeysetCursor | null): DataLoader<string, ConversationListRow[]> {
  const name = `contact.conversations:${limit}:${after ? `${after.ts}|${after.id}` : ''}`;
  return ctx.loader<string, ConversationListRow[]>(name, async (contactIds) => {
    const rows = await ctx.tenant().conversations.pagesByContact(contactIds, limit, after, ctx.scope().user);
    const byContact = new Map<string, ConversationListRow[]>();
    for (const r of rows) {
      let list = byContact.get(r.row.contactId);
      if (!list) byContact.set(r.row.contactId, (list = []));
      list.push(r);
    }
    return contactIds.map((id) => byContact.get(id) ?? []);
  });
}
