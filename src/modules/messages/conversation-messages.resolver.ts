import { Arg, Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../graphql/context.js';
import { messageLoader, messagePageLoader } from '../../graphql/loaders.js';
import { decodeCursor, pageSize, toPage, type KeysetCursor } from '../../graphql/pagination.js';
import { Conversation } from '../conversations/conversation.type.js';
import { MessageConnection } from './message-connection.type.js';
import { Message } from './message.type.js';

/**
 * The message fields of Conversation. They live with messages (which depends on conversations),
 * so the conversations module never imports the messages module.
 */
@Resolver(() => Conversation)
export class ConversationMessagesResolver {
  @FieldResolver(() => Message, { nullable: true, description: 'The newest message, for inbox lists.' })
  lastMessage(@Root() conversation: Conversation, @Ctx() ctx: RequestContext): Message | null | Promise<Message | null> {
    return conversation.lastMessageId ? messageLoader(ctx).loadNow(conversation.lastMessageId) : null;
  }

  @FieldResolver(() => MessageConnection, { description: 'Newest first; `before` is a cursor from an earlier page.' })
  async messages(
    @Root() conversation: Conversation,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('before', () => String, { nullable: true }) before: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<MessageConnection> {
    const { limit, cursor } = messagePage(first, before);
    const rows = await messagePageLoader(ctx, limit, cursor).load(conversation.id);
    return toPage(rows, limit, cursor !== null);
  }
}

/**
 * The page `messages(first, before)` asks for (refused arguments throw BAD_USER_INPUT): its size
 * and cursor name the loader, so a resolver priming that loader (ThreadResolver) reads them here too.
 */
export function messagePage(first: number | null | undefined, before: string | null | undefined): { limit: number; cursor: KeysetCursor | null } {
  return { limit: pageSize(first), cursor: decodeCursor(before, 'before') };
}
