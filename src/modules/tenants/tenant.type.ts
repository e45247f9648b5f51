import { Field, ID, ObjectType } from 'type-graphql';

@ObjectType('Tenant')
export class Tenant {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String)
  slug!: string;

  @Field(() => Date)
  createdAt!: Date;
}
