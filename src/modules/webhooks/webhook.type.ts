import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { PageInfo } from '../../graphql/pagination.js';

export enum WebhookEventType {
  MESSAGE_RECEIVED = 'MESSAGE_RECEIVED',
  MESSAGE_STATUS_CHANGED = 'MESSAGE_STATUS_CHANGED',
  CONVERSATION_OPENED = 'CONVERSATION_OPENED',
  CONVERSATION_ASSIGNED = 'CONVERSATION_ASSIGNED',
  CONVERSATION_RESOLVED = 'CONVERSATION_RESOLVED',
  CONTACT_OPTED_OUT = 'CONTACT_OPTED_OUT',
  CAMPAIGN_COMPLETED = 'CAMPAIGN_COMPLETED',
}
registerEnumType(WebhookEventType, { name: 'WebhookEventType' });

export enum WebhookDeliveryStatus {
  PENDING = 'PENDING',
  DELIVERED = 'DELIVERED',
  FAILED = 'FAILED',
}
registerEnumType(WebhookDeliveryStatus, { name: 'WebhookDeliveryStatus' });

@ObjectType('WebhookDelivery', { simpleResolvers: true })
export class WebhookDelivery {
  @Field(() => ID)
  id!: string;

  @Field(() => WebhookEventType)
  event!: WebhookEventType;

  @Field(() => WebhookDeliveryStatus)
  status!: WebhookDeliveryStatus;

  @Field(() => Int)
  attempts!: number;

  @Field(() => Int, { nullable: true })
  lastResponseStatus!: number | null;

  @Field(() => String, { description: 'The webhook-id header, the same on every attempt.' })
  webhookId!: string;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  deliveredAt!: Date | null;
}

@ObjectType('WebhookDeliveryEdge', { simpleResolvers: true })
export class WebhookDeliveryEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => WebhookDelivery)
  node!: WebhookDelivery;
}

@ObjectType('WebhookDeliveryConnection', { simpleResolvers: true })
export class WebhookDeliveryConnection {
  @Field(() => [WebhookDeliveryEdge])
  edges!: WebhookDeliveryEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

@ObjectType('WebhookEndpoint', {
  simpleResolvers: true,
  description: "A tenant's own URL that receives signed event deliveries (Standard Webhooks headers), retried until acknowledged.",
})
export class WebhookEndpoint {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  url!: string;

  @Field(() => [WebhookEventType])
  events!: WebhookEventType[];

  @Field(() => Boolean, { description: 'false when an admin turned it off, or after it failed for the whole retry window (see disabledReason).' })
  enabled!: boolean;

  @Field(() => String, { nullable: true })
  disabledReason!: string | null;

  @Field(() => Date)
  createdAt!: Date;
}

@ObjectType('CreatedWebhookEndpoint', { simpleResolvers: true })
export class CreatedWebhookEndpoint {
  @Field(() => WebhookEndpoint)
  endpoint!: WebhookEndpoint;

  @Field(() => String, { description: 'whsec_…: shown only in this answer.' })
  signingSecret!: string;
}

@InputType('CreateWebhookEndpointInput')
export class CreateWebhookEndpointInput {
  @Field(() => String, { description: 'https only in production, to a public address.' })
  url!: string;

  @Field(() => [WebhookEventType])
  events!: WebhookEventType[];
}

@InputType('UpdateWebhookEndpointInput')
export class UpdateWebhookEndpointInput {
  @Field(() => String, { nullable: true })
  url?: string | null;

  @Field(() => [WebhookEventType], { nullable: true })
  events?: WebhookEventType[] | null;

  @Field(() => Boolean, { nullable: true })
  enabled?: boolean | null;
}
