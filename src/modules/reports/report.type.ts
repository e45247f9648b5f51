import { Field, Float, Int, ObjectType } from 'type-graphql';
import { User } from '../users/user.type.js';

@ObjectType('AgentReport', { simpleResolvers: true })
export class AgentReport {
  @Field(() => User)
  agent!: User;

  @Field(() => Int, { description: 'Conversations this agent resolved in the period.' })
  conversationsResolved!: number;

  @Field(() => Float, { nullable: true, description: 'Over the conversations opened in the period whose first agent reply was theirs.' })
  medianFirstResponseSeconds!: number | null;

  @Field(() => Float, { nullable: true })
  csatAverage!: number | null;
}

@ObjectType('Report', {
  simpleResolvers: true,
  description: "Figures over a period: first response is from a conversation's first inbound text to the first agent reply.",
})
export class Report {
  @Field(() => Date)
  from!: Date;

  @Field(() => Date)
  to!: Date;

  @Field(() => Int, { description: 'Conversations created in [from, to).' })
  conversationsOpened!: number;

  @Field(() => Int, { description: 'Conversations resolved in [from, to).' })
  conversationsResolved!: number;

  @Field(() => Int, { description: 'Inbound messages in [from, to).' })
  messagesReceived!: number;

  @Field(() => Int, { description: 'Outbound messages (agents, automations, campaigns) in [from, to).' })
  messagesSent!: number;

  @Field(() => Float, { nullable: true, description: 'Over the conversations opened in the period that got an agent reply.' })
  medianFirstResponseSeconds!: number | null;

  @Field(() => Float, { nullable: true, description: 'From creation to resolution, over the conversations resolved in the period.' })
  medianResolutionSeconds!: number | null;

  @Field(() => Float, { nullable: true })
  csatAverage!: number | null;

  @Field(() => [AgentReport])
  byAgent!: AgentReport[];
}
