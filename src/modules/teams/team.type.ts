import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { AssignmentStrategy } from './assignment-strategy.js';

registerEnumType(AssignmentStrategy, {
  name: 'AssignmentStrategy',
  valuesConfig: {
    MANUAL: { description: "Conversations wait in the team's queue until someone takes or is given them." },
    ROUND_ROBIN: { description: 'The next ONLINE member with spare capacity, in turn.' },
    LEAST_BUSY: { description: 'The ONLINE member with the fewest open conversations, within capacity.' },
  },
});

/** `members` is a field resolver (teams resolver). */
@ObjectType('Team', { simpleResolvers: true, description: 'A group of agents that conversations are routed to (a department, a workstream).' })
export class Team {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => AssignmentStrategy)
  strategy!: AssignmentStrategy;

  @Field(() => Int, { nullable: true, description: 'Most open conversations an automatic assignment gives one member; null means no limit.' })
  agentCapacity!: number | null;

  @Field(() => Date)
  createdAt!: Date;
}
