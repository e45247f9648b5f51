import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';

@ObjectType('Tenant', { simpleResolvers: true })
export class Tenant {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String)
  slug!: string;

  @Field(() => Int, { nullable: true, description: 'Messages and media older than this many days are deleted daily (and at Twilio); null keeps them.' })
  retentionDays!: number | null;

  @Field(() => Date)
  createdAt!: Date;
}

@InputType('UpdateTenantInput')
export class UpdateTenantInput {
  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => Int, { nullable: true, description: 'Messages and media older than this are deleted (and asked deleted at Twilio); null keeps them.' })
  retentionDays?: number | null;
}
