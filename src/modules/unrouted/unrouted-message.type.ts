import { Field, ID, ObjectType } from 'type-graphql';
import { PageInfo } from '../../graphql/pagination.js';
import { TwilioAccount } from '../twilio-accounts/twilio-account.type.js';

@ObjectType('UnroutedMessage', { simpleResolvers: true, description: 'A signed inbound text to a number not registered (as inbound) in this tenant.' })
export class UnroutedMessage {
  @Field(() => ID)
  id!: string;

  /** Not a GraphQL field: the `twilioAccount` field is resolved from it. */
  twilioAccountId!: string;

  @Field(() => String)
  from!: string;

  @Field(() => String)
  to!: string;

  @Field(() => String)
  body!: string;

  @Field(() => String)
  twilioSid!: string;

  @Field(() => Date)
  receivedAt!: Date;
}

@ObjectType('UnroutedMessageEdge', { simpleResolvers: true })
export class UnroutedMessageEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => UnroutedMessage)
  node!: UnroutedMessage;
}

@ObjectType('UnroutedMessageConnection', { simpleResolvers: true })
export class UnroutedMessageConnection {
  @Field(() => [UnroutedMessageEdge])
  edges!: UnroutedMessageEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

export { TwilioAccount };
