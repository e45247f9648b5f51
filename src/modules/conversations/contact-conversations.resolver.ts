import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../graphql/context.js';
import { Contact } from '../contacts/contact.type.js';
import { UpdateContactInput } from '../contacts/update-contact.input.js';
import { decodeCursor, pageSize, toPage } from '../../graphql/pagination.js';
import { contactConversationsLoader } from './contact-conversations.loader.js';
import { ConversationConnection } from './conversation-connection.type.js';

/** Contact.conversations and updateContact live here: conversations depend on contacts, not the reverse. */
@Resolver(() => Contact)
export class ContactConversationsResolver {
  @FieldResolver(() => ConversationConnection, {
    description: "The contact's conversations the caller may see, most recent activity first; none while the contact is blocked.",
  })
  async conversations(
    @Root() contact: Contact,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<ConversationConnection> {
    const limit = pageSize(first);
    const cursor = decodeCursor(after, 'after');
    const rows = await contactConversationsLoader(ctx, limit, cursor).load(contact.id);
    return toPage(rows, limit, cursor !== null);
  }

  @Authorized()
  @Mutation(() => Contact, { description: 'Name (up to 200 characters; null or blank clears it) and block. Blocking resolves the contact’s open conversations.' })
  updateContact(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateContactInput) input: UpdateContactInput,
    @Ctx() ctx: RequestContext,
  ): Promise<Contact> {
    return ctx.tenant().contactUpdatesService.update(id, input);
  }
}
