import { Field, InputType } from 'type-graphql';

@InputType('SignUpInput')
export class SignUpInput {
  @Field(() => String)
  tenantName!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String)
  email!: string;

  @Field(() => String)
  password!: string;
}
