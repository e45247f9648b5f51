import { Field, InputType } from 'type-graphql';

/** Partial: an omitted field stays as it is; an explicit null puts the field back to its default. */
@InputType('UpdateTwilioAccountInput')
export class UpdateTwilioAccountInput {
  @Field(() => String, { nullable: true, description: 'null: back to the account SID.' })
  friendlyName?: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      'A rotated token is checked against the Twilio API before it replaces the stored one. Webhooks signed with the old token are still accepted until the first one signed with the new token (Twilio signs with its primary token until the new one is promoted), within a grace period.',
  })
  authToken?: string | null;

  @Field(() => String, { nullable: true, description: 'null: back to https://api.twilio.com. The credentials are checked against the new root first.' })
  apiBaseUrl?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'null: back to true.' })
  mediaEnabled?: boolean | null;

  @Field(() => [String], { nullable: true, description: 'null: back to empty (all types).' })
  acceptedMediaTypes?: string[] | null;
}
