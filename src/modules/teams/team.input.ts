import { Field, ID, InputType, Int } from 'type-graphql';
import { AssignmentStrategy } from './assignment-strategy.js';

@InputType('CreateTeamInput')
export class CreateTeamInput {
  @Field(() => String)
  name!: string;

  @Field(() => AssignmentStrategy, { nullable: true, description: 'ROUND_ROBIN unless given.' })
  strategy?: AssignmentStrategy | null;

  @Field(() => Int, { nullable: true, description: '1 to 10,000; omitted or null: no limit.' })
  agentCapacity?: number | null;

  @Field(() => [ID], { nullable: true, description: 'Users of the tenant; at most 1,000.' })
  memberIds?: string[] | null;
}

/** An omitted field stays unchanged; an explicit null clears it (agentCapacity: no limit). */
@InputType('UpdateTeamInput')
export class UpdateTeamInput {
  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => AssignmentStrategy, { nullable: true })
  strategy?: AssignmentStrategy | null;

  @Field(() => Int, { nullable: true })
  agentCapacity?: number | null;

  @Field(() => [ID], { nullable: true, description: 'Replaces the members.' })
  memberIds?: string[] | null;
}
