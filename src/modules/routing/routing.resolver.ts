import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Resolver, Root, registerEnumType } from 'type-graphql';
import type { RequestContext } from '../../graphql/context.js';
import { Conversation } from '../conversations/conversation.type.js';
import { PhoneNumber } from '../phone-numbers/phone-number.type.js';
import { Team } from '../teams/team.type.js';
import { TeamsRepository } from '../teams/teams.repository.js';
import { TeamsService } from '../teams/teams.service.js';
import type { TeamRow } from '../teams/teams.schema.js';
import { Role } from '../users/role.js';
import { User } from '../users/user.type.js';
import { Availability } from './availability.js';
import { PresenceRepository } from './presence.repository.js';
import { RoutingService } from './routing.service.js';

registerEnumType(Availability, { name: 'Availability' });

function teamLoader(ctx: RequestContext) {
  return ctx.byId('teams.byId', (ids) => new TeamsRepository(ctx.deps.db, ctx.scope().tenantId).findByIds(ids));
}

@Resolver()
export class RoutingResolver {
  @Authorized()
  @Mutation(() => User, { description: 'For oneself. Only ONLINE agents receive conversations by automatic assignment.' })
  setAvailability(@Arg('availability', () => Availability) availability: Availability, @Ctx() ctx: RequestContext): Promise<User> {
    return new RoutingService(ctx.scope()).setAvailability(availability);
  }

  @Authorized()
  @Mutation(() => Conversation, { description: "Moves the conversation to a team (routed by its strategy) and/or an agent." })
  transferConversation(
    @Arg('conversationId', () => ID) conversationId: string,
    @Arg('teamId', () => ID, { nullable: true }) teamId: string | null,
    @Arg('assigneeId', () => ID, { nullable: true }) assigneeId: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<Conversation> {
    return new RoutingService(ctx.scope()).transfer(conversationId, teamId ?? null, assigneeId ?? null);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Boolean, {
    description: 'Its conversations move to moveConversationsTo, or become team-less (visible to every agent) when it is omitted.',
  })
  deleteTeam(
    @Arg('id', () => ID) id: string,
    @Arg('moveConversationsTo', () => ID, { nullable: true }) moveConversationsTo: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<boolean> {
    return new RoutingService(ctx.scope()).deleteTeam(id, moveConversationsTo ?? null);
  }
}

@Resolver(() => User)
export class UserRoutingResolver {
  @FieldResolver(() => Availability, { description: 'Only ONLINE agents receive conversations by automatic assignment.' })
  async availability(@Root() user: User, @Ctx() ctx: RequestContext): Promise<Availability> {
    const row = await ctx
      .loader<string, Availability>('users.availability', async (ids) => {
        const rows = await new PresenceRepository(ctx.deps.db, ctx.scope().tenantId).findByUserIds(ids);
        const byUser = new Map(rows.map((r) => [r.userId, r.availability as Availability]));
        return ids.map((id) => byUser.get(id) ?? Availability.OFFLINE);
      })
      .load(user.id);
    return row;
  }

  @FieldResolver(() => [Team])
  teams(@Root() user: User, @Ctx() ctx: RequestContext): Promise<TeamRow[]> {
    return ctx
      .loader<string, TeamRow[]>('users.teams', async (userIds) => {
        const rows = await new TeamsService(ctx.scope()).teamsOf(userIds);
        return userIds.map((id) => rows.filter((r) => r.userId === id).map((r) => r.team));
      })
      .load(user.id);
  }
}

@Resolver(() => PhoneNumber)
export class PhoneNumberTeamResolver {
  @FieldResolver(() => Team, { nullable: true, description: 'New conversations on this number are routed to this team; null: no team.' })
  team(@Root() number: PhoneNumber, @Ctx() ctx: RequestContext): Promise<TeamRow | null> {
    return number.teamId ? teamLoader(ctx).load(number.teamId) : Promise.resolve(null);
  }
}

@Resolver(() => Conversation)
export class ConversationTeamResolver {
  @FieldResolver(() => Team, { nullable: true })
  team(@Root() conversation: Conversation, @Ctx() ctx: RequestContext): Promise<TeamRow | null> {
    return conversation.teamId ? teamLoader(ctx).load(conversation.teamId) : Promise.resolve(null);
  }
}
