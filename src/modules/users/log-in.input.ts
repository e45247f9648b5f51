import { Field, InputType } from 'type-graphql';

@InputType('LogInInput')
export class LogInInput {
  @Field(() => String)
  email!: string;

  @Field(() => String)
  password!: string;

  @Field(() => String, { nullable: true, description: 'Needed only when the email belongs to users of several tenants.' })
  tenantSlug?: string | null;
}
