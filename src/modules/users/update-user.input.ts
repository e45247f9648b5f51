import { Field, InputType } from 'type-graphql';
import { Role } from './role.js';

/** Omitted fields stay unchanged. */
@InputType('UpdateUserInput')
export class UpdateUserInput {
  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => Role, { nullable: true })
  role?: Role | null;

  @Field(() => Boolean, { nullable: true })
  active?: boolean | null;
}
