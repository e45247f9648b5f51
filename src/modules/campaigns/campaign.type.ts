import { GraphQLLocalEndTime, GraphQLLocalTime } from 'graphql-scalars';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { PageInfo } from '../../graphql/pagination.js';
import { Message } from '../messages/message.type.js';
import { CampaignRecipientStatus, CampaignStatus } from './campaign.enums.js';

registerEnumType(CampaignStatus, { name: 'CampaignStatus' });
registerEnumType(CampaignRecipientStatus, { name: 'CampaignRecipientStatus' });

@ObjectType('CampaignStats', { simpleResolvers: true })
export class CampaignStats {
  @Field(() => Int)
  recipients!: number;

  @Field(() => Int, { description: 'Waiting to be sent (not yet handed to Twilio), including those not yet turned into a message.' })
  queued!: number;

  @Field(() => Int)
  sent!: number;

  @Field(() => Int, { description: 'READ counts as delivered.' })
  delivered!: number;

  @Field(() => Int, { description: 'UNDELIVERED counts as failed.' })
  failed!: number;

  @Field(() => Int, { description: 'Not sent: opted out, blocked or a duplicate number (or the campaign was cancelled first).' })
  skipped!: number;

  @Field(() => Int, { description: 'Recipients whose first non-keyword reply came within 7 days.' })
  replied!: number;
}

@ObjectType('CampaignRecipient', { simpleResolvers: true })
export class CampaignRecipient {
  @Field(() => String)
  phoneNumber!: string;

  @Field(() => String, { nullable: true })
  name!: string | null;

  @Field(() => CampaignRecipientStatus)
  status!: CampaignRecipientStatus;

  @Field(() => String, { nullable: true, description: "Why it was skipped or failed (opted out, blocked, duplicate, Twilio's error)." })
  reason!: string | null;

  @Field(() => Message, { nullable: true })
  message!: Message | null;

  @Field(() => Date, { nullable: true })
  repliedAt!: Date | null;
}

@ObjectType('CampaignRecipientEdge', { simpleResolvers: true })
export class CampaignRecipientEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => CampaignRecipient)
  node!: CampaignRecipient;
}

@ObjectType('CampaignRecipientConnection', { simpleResolvers: true })
export class CampaignRecipientConnection {
  @Field(() => [CampaignRecipientEdge])
  edges!: CampaignRecipientEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

/** `phoneNumber`, `stats` and `recipients` are field resolvers. */
@ObjectType('Campaign', { simpleResolvers: true, description: 'One text to many recipients from one number, each sent exactly once, paced and opt-out aware.' })
export class Campaign {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  phoneNumberId!: string;

  @Field(() => String, { description: '{{contact.name}} (and {{tenant.name}}) are filled in per recipient.' })
  body!: string;

  @Field(() => CampaignStatus)
  status!: CampaignStatus;

  @Field(() => Date, { nullable: true })
  scheduledAt!: Date | null;

  @Field(() => GraphQLLocalTime, {
    nullable: true,
    description: "Sends wait outside this window, in the recipient's local time where it can be told (else the number's).",
  })
  sendWindowStart!: string | null;

  @Field(() => GraphQLLocalEndTime, { nullable: true })
  sendWindowEnd!: string | null;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  startedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  completedAt!: Date | null;
}

@ObjectType('CampaignEdge', { simpleResolvers: true })
export class CampaignEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => Campaign)
  node!: Campaign;
}

@ObjectType('CampaignConnection', { simpleResolvers: true })
export class CampaignConnection {
  @Field(() => [CampaignEdge])
  edges!: CampaignEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
