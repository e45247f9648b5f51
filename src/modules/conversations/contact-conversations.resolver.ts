import { Arg, Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../graphql/context.js';
import { Contact } from '../contacts/contact.type.js';
import { ConversationConnection } from './conversation-connection.type.js';
import { ConversationsService } from './conversations.service.js';

/** Contact.conversations lives here: conversations depend on contacts, not the reverse. */
@Resolver(() => Contact)
export class ContactConversationsResolver {
  @FieldResolver(() => ConversationConnection, {
    description: "The contact's conversations the caller may see, most recent activity first; none while the contact is blocked.",
  })
  conversations(
    @Root() contact: Contact,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<ConversationConnection> {
    return new ConversationsService(ctx.scope()).list({ first, after, contactId: contact.id });
  }
}
