import { Field, ID, ObjectType } from 'type-graphql';

/**
 * The auth token is never a field. `inboundWebhookUrl`, `statusCallbackUrl` and `phoneNumbers`
 * are field resolvers (twilio-accounts resolver), derived from the row's webhook key.
 */
@ObjectType('TwilioAccount', { simpleResolvers: true })
export class TwilioAccount {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  accountSid!: string;

  @Field(() => String)
  friendlyName!: string;

  @Field(() => String, { description: "Twilio-compatible REST API root; https://api.twilio.com unless set." })
  apiBaseUrl!: string;

  @Field(() => Boolean)
  mediaEnabled!: boolean;

  @Field(() => [String], { description: 'Accepted inbound media types, e.g. image/ or application/pdf; empty means all.' })
  acceptedMediaTypes!: string[];

  @Field(() => Boolean, { description: 'Connected to the built-in Twilio simulator (sandbox mode), not to Twilio.' })
  sandbox!: boolean;

  webhookKey!: string;

  @Field(() => Date)
  createdAt!: Date;
}
