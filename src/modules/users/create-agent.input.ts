import { Field, InputType } from 'type-graphql';
import { Role } from './role.js';

@InputType('CreateAgentInput')
export class CreateAgentInput {
  @Field(() => String)
  email!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String)
  password!: string;

  @Field(() => Role)
  role!: Role;
}
