import { Field, ID, InputType, ObjectType } from 'type-graphql';

@ObjectType('QuickReply', { simpleResolvers: true, description: 'A saved reply. {{contact.name}}, {{agent.name}} and {{tenant.name}} are filled in by renderQuickReply.' })
export class QuickReply {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  title!: string;

  @Field(() => String)
  body!: string;

  @Field(() => Date)
  createdAt!: Date;
}

@InputType('CreateQuickReplyInput')
export class CreateQuickReplyInput {
  @Field(() => String, { description: '1 to 100 characters, unique in the tenant (case-insensitive).' })
  title!: string;

  @Field(() => String, { description: '1 to 1,600 characters; placeholders: {{contact.name}}, {{agent.name}}, {{tenant.name}}.' })
  body!: string;
}

/** Partial: omitted fields stay. */
@InputType('UpdateQuickReplyInput')
export class UpdateQuickReplyInput {
  @Field(() => String, { nullable: true })
  title?: string | null;

  @Field(() => String, { nullable: true })
  body?: string | null;
}
