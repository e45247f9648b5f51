import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../graphql/context.js';
import { Role } from '../users/role.js';
import { User } from '../users/user.type.js';
import type { UserRow } from '../users/users.schema.js';
import { CreateTeamInput, UpdateTeamInput } from './team.input.js';
import { Team } from './team.type.js';
import { teamMembersLoader } from '../../graphql/loaders.js';

@Resolver(() => Team)
export class TeamResolver {
  @Authorized()
  @Query(() => [Team], { description: "The tenant's teams, by name." })
  teams(@Ctx() ctx: RequestContext): Promise<Team[]> {
    return ctx.tenant().teamsService.list();
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Team)
  createTeam(@Arg('input', () => CreateTeamInput) input: CreateTeamInput, @Ctx() ctx: RequestContext): Promise<Team> {
    return ctx.tenant().teamsService.create(input);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Team)
  updateTeam(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateTeamInput) input: UpdateTeamInput,
    @Ctx() ctx: RequestContext,
  ): Promise<Team> {
    return ctx.tenant().teamsService.update(id, input);
  }

  @FieldResolver(() => [User])
  members(@Root() team: Team, @Ctx() ctx: RequestContext): Promise<UserRow[]> {
    return teamMembersLoader(ctx).load(team.id);
  }
}
