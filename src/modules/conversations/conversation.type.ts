import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { ConversationStatus } from './conversation-status.js';

registerEnumType(ConversationStatus, { name: 'ConversationStatus' });

/** `contact`, `phoneNumber`, `assignee` and `messages` are field resolvers (conversations resolver). */
@ObjectType('Conversation', { simpleResolvers: true })
export class Conversation {
  @Field(() => ID)
  id!: string;

  @Field(() => ConversationStatus)
  status!: ConversationStatus;

  @Field(() => Int, { description: 'Inbound messages since the last markConversationRead.' })
  unreadCount!: number;

  @Field(() => Date)
  lastMessageAt!: Date;

  @Field(() => Date)
  createdAt!: Date;

  contactId!: string;
  phoneNumberId!: string;
  assigneeId!: string | null;
  teamId!: string | null;
  lastMessageId!: string | null;
}
