import { Field, ID, ObjectType } from 'type-graphql';

@ObjectType('Contact')
export class Contact {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: 'E.164.' })
  phoneNumber!: string;

  @Field(() => String, { nullable: true })
  name!: string | null;

  @Field(() => Boolean, { description: 'The contact texted STOP; nothing is sent until they text START.' })
  optedOut!: boolean;

  @Field(() => Date)
  createdAt!: Date;
}
