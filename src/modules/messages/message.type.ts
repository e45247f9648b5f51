import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { MessageDirection, MessageSource, MessageStatus } from './message.enums.js';

registerEnumType(MessageDirection, { name: 'MessageDirection' });
registerEnumType(MessageStatus, { name: 'MessageStatus' });
registerEnumType(MessageSource, { name: 'MessageSource' });

@ObjectType('Media', { simpleResolvers: true })
export class Media {
  @Field(() => String, { description: 'For inbound media, our own short-lived signed link (never Twilio credentials).' })
  url!: string;

  @Field(() => String)
  contentType!: string;
}

/**
 * `media` (signed links for inbound media) and `author` are field resolvers, so a raw row can be
 * returned wherever a Message is expected.
 */
@ObjectType('Message', { simpleResolvers: true })
export class Message {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  conversationId!: string;

  @Field(() => MessageDirection)
  direction!: MessageDirection;

  @Field(() => String)
  body!: string;

  @Field(() => MessageStatus)
  status!: MessageStatus;

  @Field(() => String, { nullable: true })
  twilioSid!: string | null;

  @Field(() => Int, { nullable: true })
  errorCode!: number | null;

  @Field(() => String, { nullable: true })
  errorMessage!: string | null;

  @Field(() => Int, { description: 'SMS segments the body takes (GSM-7: 160/153 chars, UCS-2: 70/67).' })
  segments!: number;

  @Field(() => Int, { description: 'Inbound media items not shown (media disabled or type not accepted).' })
  mediaDropped!: number;

  authorId!: string | null;

  @Field(() => MessageSource, { description: 'Who or what wrote it: the customer, an agent (author), an automated message, or a campaign.' })
  source!: MessageSource;

  @Field(() => Date)
  createdAt!: Date;
}
