import { Field, ID, InputType } from 'type-graphql';

@InputType('SendMessageInput')
export class SendMessageInput {
  @Field(() => ID)
  conversationId!: string;

  @Field(() => String)
  body!: string;

  @Field(() => [String], { nullable: true })
  mediaUrls?: string[] | null;

  @Field(() => String, {
    nullable: true,
    description: 'Repeating a sendMessage with the same key returns the first message and sends nothing again.',
  })
  idempotencyKey?: string | null;
}
