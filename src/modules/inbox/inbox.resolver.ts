import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Authorized, Ctx, ID, Info, Int, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../../graphql/context.js';
import { selectedFieldsAt } from '../../graphql/selection.js';
import { ConversationConnection } from '../conversations/conversation-connection.type.js';
import { ConversationStatus } from '../conversations/conversation-status.js';
import { Conversation } from '../conversations/conversation.type.js';
import { joinsFor, primeLoaders } from './inbox-joins.js';

/**
 * The inbox list. One statement a page: the relations its selection names (contact, assignee,
 * last message, number) are read with the page and primed into their loaders (inbox-joins.ts).
 */
@Resolver(() => Conversation)
export class InboxResolver {
  @Authorized()
  @Query(() => ConversationConnection, { description: 'Most recent activity first.' })
  async conversations(
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('status', () => ConversationStatus, { nullable: true }) status: ConversationStatus | null,
    @Arg('assigneeId', () => ID, { nullable: true }) assigneeId: string | null,
    @Ctx() ctx: RequestContext,
    @Info() info: GraphQLResolveInfo,
    // Routing filters: they combine with the visibility rule.
    @Arg('teamId', () => ID, { nullable: true }) teamId: string | null,
    @Arg('unassigned', () => Boolean, { nullable: true, description: 'true: no assignee; false: assigned.' }) unassigned: boolean | null,
    @Arg('phoneNumberId', () => ID, { nullable: true }) phoneNumberId: string | null,
    // Inbox tools (issue 11): label and search filters.
    @Arg('label', () => String, { nullable: true, description: 'Conversations carrying this label (case-insensitive).' }) label: string | null,
    @Arg('search', () => String, {
      nullable: true,
      description: "At least 2 characters: a substring of message text, the contact's name (case and accents ignored) or digits of their number.",
    })
    search: string | null,
  ): Promise<ConversationConnection> {
    const joins = joinsFor(selectedFieldsAt(info, ['edges', 'node']));
    const list = await ctx.tenant().conversationsService.list({ first, after, status, assigneeId, teamId, unassigned, phoneNumberId, label, search }, joins);
    primeLoaders(ctx, list);
    return list;
  }
}
