import { Field, ID, ObjectType } from 'type-graphql';

@ObjectType('Contact')
export class Contact {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: 'As Twilio gave it: E.164 when phoneNumberIsE164, else the sender as received (e.g. an alphanumeric sender ID).' })
  phoneNumber!: string;

  @Field(() => String, { nullable: true })
  name!: string | null;

  @Field(() => Boolean, { description: 'The contact texted STOP; nothing is sent until they text START.' })
  optedOut!: boolean;

  @Field(() => Date)
  createdAt!: Date;
}
