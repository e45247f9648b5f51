import { Field, ID, ObjectType } from 'type-graphql';
import { PageInfo } from '../../graphql/pagination.js';

@ObjectType('AuditEvent', {
  simpleResolvers: true,
  description: "Who did what to which object, for every mutation that changes settings, people, contacts or conversations' ownership.",
})
export class AuditEvent {
  @Field(() => ID)
  id!: string;

  /** Resolved into `actor` and `apiKey`. */
  actorUserId!: string | null;
  actorApiKeyId!: string | null;

  @Field(() => String, { description: 'e.g. team.create, user.deactivate, contact.erase, twilio_account.rotate_token.' })
  action!: string;

  @Field(() => String)
  targetType!: string;

  @Field(() => ID, { nullable: true })
  targetId!: string | null;

  @Field(() => String, { nullable: true, description: "The caller's address (X-Forwarded-For with TRUST_PROXY)." })
  clientAddress!: string | null;

  @Field(() => Date)
  at!: Date;
}

@ObjectType('AuditEventEdge', { simpleResolvers: true })
export class AuditEventEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => AuditEvent)
  node!: AuditEvent;
}

@ObjectType('AuditEventConnection', { simpleResolvers: true })
export class AuditEventConnection {
  @Field(() => [AuditEventEdge])
  edges!: AuditEventEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
