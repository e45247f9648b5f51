import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Authorized, Ctx, ID, Info, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../../graphql/context.js';
import { messagePageLoader } from '../../graphql/loaders.js';
import type { KeysetCursor } from '../../graphql/pagination.js';
import { argumentsOfSelected } from '../../graphql/selection.js';
import { DomainError } from '../../shared/errors.js';
import { Conversation } from '../conversations/conversation.type.js';
import { messagePage } from './conversation-messages.resolver.js';

/**
 * `conversation(id)`, the thread view. When the selection asks for the conversation's messages,
 * the conversation and that page are read in one statement and the page is primed into the
 * loader the `messages` field reads (ConversationMessagesResolver), so the thread costs one round
 * trip instead of two. It lives with messages, not conversations, because messages depends on
 * conversations and not the reverse.
 */
@Resolver(() => Conversation)
export class ThreadResolver {
  @Authorized()
  @Query(() => Conversation, { nullable: true })
  async conversation(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext, @Info() info: GraphQLResolveInfo): Promise<Conversation | null> {
    const page = selectedMessagePage(info);
    if (!page) return ctx.tenant().conversationsService.get(id);
    const thread = await ctx.tenant().messagesService.thread(id, page.limit, page.cursor);
    if (!thread) return null;
    messagePageLoader(ctx, page.limit, page.cursor).prime(thread.conversation.id, thread.page);
    return thread.conversation;
  }
}

/**
 * The page of the first `messages` selection, as that field will ask for it (the same pageSize
 * and cursor, hence the same loader). None when messages are not selected, or when the field's
 * arguments are refused: then the field reports that itself, in its own place of the answer.
 * Other selections of `messages` with other arguments load their pages as they would anyway.
 */
function selectedMessagePage(info: GraphQLResolveInfo): { limit: number; cursor: KeysetCursor | null } | null {
  const [args] = argumentsOfSelected(info, 'messages');
  if (!args) return null;
  try {
    return messagePage(args.first as number | null | undefined, args.before as string | null | undefined);
  } catch (error) {
    if (error instanceof DomainError) return null;
    throw error;
  }
}
