import { Field, ID, InputType } from 'type-graphql';

@InputType('StartConversationInput')
export class StartConversationInput {
  @Field(() => ID)
  phoneNumberId!: string;

  @Field(() => String, { description: 'The customer, in E.164 or in the national format of our number.' })
  to!: string;

  @Field(() => String)
  body!: string;
}
