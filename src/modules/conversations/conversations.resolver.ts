import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../graphql/context.js';
import { contactLoader, labelsLoader, phoneNumberLoader, required, userLoader } from '../../graphql/loaders.js';
import { Contact } from '../contacts/contact.type.js';
import { PhoneNumber } from '../phone-numbers/phone-number.type.js';
import { User } from '../users/user.type.js';
import { ConversationStatus } from './conversation-status.js';
import { Conversation } from './conversation.type.js';

/** Conversation's mutations and relations; the `conversation(id)` query is the messages module's ThreadResolver (it reads the thread's first page with it). */
@Resolver(() => Conversation)
export class ConversationResolver {
  @Authorized()
  @Mutation(() => Conversation)
  assignConversation(
    @Arg('conversationId', () => ID) conversationId: string,
    @Arg('assigneeId', () => ID, { nullable: true }) assigneeId: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<Conversation> {
    return ctx.tenant().conversationsService.assign(conversationId, assigneeId ?? null);
  }

  @Authorized()
  @Mutation(() => Conversation)
  setConversationStatus(
    @Arg('conversationId', () => ID) conversationId: string,
    @Arg('status', () => ConversationStatus) status: ConversationStatus,
    @Ctx() ctx: RequestContext,
  ): Promise<Conversation> {
    return ctx.tenant().conversationsService.setStatus(conversationId, status);
  }

  @Authorized()
  @Mutation(() => Conversation)
  markConversationRead(@Arg('conversationId', () => ID) conversationId: string, @Ctx() ctx: RequestContext): Promise<Conversation> {
    return ctx.tenant().conversationsService.markRead(conversationId);
  }

  @Authorized()
  @Mutation(() => Conversation, { description: 'Replaces the labels: trimmed, case-insensitively unique, at most 20 of at most 50 characters.' })
  setConversationLabels(
    @Arg('conversationId', () => ID) conversationId: string,
    @Arg('labels', () => [String]) labels: string[],
    @Ctx() ctx: RequestContext,
  ): Promise<Conversation> {
    return ctx.tenant().conversationLabelsService.set(conversationId, labels);
  }

  @FieldResolver(() => [String], { description: 'In the order they were set.' })
  async labels(@Root() conversation: Conversation, @Ctx() ctx: RequestContext): Promise<string[]> {
    return labelsLoader(ctx).load(conversation.id);
  }

  @FieldResolver(() => Contact)
  contact(@Root() conversation: Conversation, @Ctx() ctx: RequestContext): Contact | Promise<Contact> {
    return required(contactLoader(ctx).loadNow(conversation.contactId), () => `contact ${conversation.contactId} of conversation ${conversation.id} is missing`);
  }

  @FieldResolver(() => PhoneNumber)
  phoneNumber(@Root() conversation: Conversation, @Ctx() ctx: RequestContext): PhoneNumber | Promise<PhoneNumber> {
    return required(
      phoneNumberLoader(ctx).loadNow(conversation.phoneNumberId),
      () => `phone number ${conversation.phoneNumberId} of conversation ${conversation.id} is missing`,
    );
  }

  @FieldResolver(() => User, { nullable: true })
  assignee(@Root() conversation: Conversation, @Ctx() ctx: RequestContext): User | null | Promise<User | null> {
    return conversation.assigneeId ? userLoader(ctx).loadNow(conversation.assigneeId) : null;
  }
}
