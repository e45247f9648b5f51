import { Field, InputType } from 'type-graphql';

/** Omitted fields stay; `name: null` (or blank) clears the name. */
@InputType('UpdateContactInput')
export class UpdateContactInput {
  @Field(() => String, { nullable: true, description: 'Up to 200 characters; null or blank clears it.' })
  name?: string | null;

  @Field(() => Boolean, { nullable: true })
  blocked?: boolean | null;
}
