import { Field, ID, InputType } from 'type-graphql';

@InputType('SendMessageInput')
export class SendMessageInput {
  @Field(() => ID)
  conversationId!: string;

  @Field(() => String)
  body!: string;

  @Field(() => [String], { nullable: true })
  mediaUrls?: string[] | null;

  @Field(() => [ID], {
    nullable: true,
    description:
      'Files uploaded with POST /media (multipart, Bearer token); sent as MMS. With mediaUrls, at most 10 in all, and at most 5 MB of files in all.',
  })
  mediaIds?: string[] | null;

  @Field(() => String, {
    nullable: true,
    description: 'Repeating a sendMessage with the same key returns the first message and sends nothing again.',
  })
  idempotencyKey?: string | null;
}
