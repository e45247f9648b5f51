import { Field, InputType } from 'type-graphql';

@InputType('ConnectTwilioAccountInput')
export class ConnectTwilioAccountInput {
  @Field(() => String, { description: 'AC followed by 32 hexadecimal digits.' })
  accountSid!: string;

  @Field(() => String, { description: 'Checked against the Twilio API, then stored encrypted; never returned.' })
  authToken!: string;

  @Field(() => String, { nullable: true, description: "Defaults to the account's friendly name at Twilio." })
  friendlyName?: string | null;

  @Field(() => String, { nullable: true, description: 'Twilio-compatible REST API root; https://api.twilio.com unless set.' })
  apiBaseUrl?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Default true; when false, inbound media is not exposed.' })
  mediaEnabled?: boolean | null;

  @Field(() => [String], {
    nullable: true,
    description: 'Accepted inbound media types: prefixes such as image/ or exact types such as application/pdf; empty means all.',
  })
  acceptedMediaTypes?: string[] | null;
}
