import { GraphQLLocalEndTime, GraphQLLocalTime } from 'graphql-scalars';
import { Field, ID, InputType } from 'type-graphql';

@InputType('CampaignRecipientInput')
export class CampaignRecipientInput {
  @Field(() => String, { description: 'Any format libphonenumber can read; stored as E.164.' })
  phoneNumber!: string;

  @Field(() => String, { nullable: true, description: "Used for {{contact.name}}; also sets the contact's name when it has none." })
  name?: string | null;
}

@InputType('CreateCampaignInput', { description: 'A campaign is created as a DRAFT; add recipients, then startCampaign or scheduleCampaign.' })
export class CreateCampaignInput {
  @Field(() => String)
  name!: string;

  @Field(() => ID)
  phoneNumberId!: string;

  @Field(() => String)
  body!: string;

  @Field(() => [CampaignRecipientInput], {
    description: 'At most 10,000 a call; invalid ones are refused with BAD_USER_INPUT naming them and nothing is stored; duplicates are skipped.',
  })
  recipients!: CampaignRecipientInput[];

  @Field(() => GraphQLLocalTime, { nullable: true })
  sendWindowStart?: string | null;

  @Field(() => GraphQLLocalEndTime, { nullable: true })
  sendWindowEnd?: string | null;
}
