import { Arg, Authorized, Ctx, FieldResolver, Mutation, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../graphql/context.js';
import { userLoader } from '../../graphql/loaders.js';
import { Conversation } from '../conversations/conversation.type.js';
import { User } from '../users/user.type.js';
import { Message } from './message.type.js';
import { SendMessageInput } from './send-message.input.js';
import { StartConversationInput } from './start-conversation.input.js';

@Resolver(() => Message)
export class MessageResolver {
  @Authorized()
  @Mutation(() => Message)
  sendMessage(@Arg('input', () => SendMessageInput) input: SendMessageInput, @Ctx() ctx: RequestContext): Promise<Message> {
    return ctx.tenant().messagesService.send(input);
  }

  @Authorized()
  @Mutation(() => Conversation)
  startConversation(
    @Arg('input', () => StartConversationInput) input: StartConversationInput,
    @Ctx() ctx: RequestContext,
  ): Promise<Conversation> {
    return ctx.tenant().messagesService.startConversation(input);
  }

  @FieldResolver(() => User, { nullable: true, description: 'The agent who wrote an outbound message; null for inbound ones.' })
  author(@Root() message: Message, @Ctx() ctx: RequestContext): Promise<User | null> {
    return message.authorId ? userLoader(ctx).load(message.authorId) : Promise.resolve(null);
  }
}
