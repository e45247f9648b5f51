import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Resolver, Root, registerEnumType } from 'type-graphql';
import type { RequestContext } from '../../graphql/context.js';
import { Conversation } from '../conversations/conversation.type.js';
import { PhoneNumber } from '../phone-numbers/phone-number.type.js';
import { Team } from '../teams/team.type.js';
import type { TeamRow } from '../teams/teams.schema.js';
import { Role } from '../users/role.js';
import { User } from '../users/user.type.js';
import { Availability } from './availability.js';
import { availabilityLoader, teamLoader, userTeamsLoader } from '../../graphql/loaders.js';

registerEnumType(Availability, { name: 'Availability' });

@Resolver()
export class RoutingResolver {
  @Authorized()
  @Mutation(() => User, { description: 'For oneself. Only ONLINE agents receive conversations by automatic assignment.' })
  setAvailability(@Arg('availability', () => Availability) availability: Availability, @Ctx() ctx: RequestContext): Promise<User> {
    return ctx.tenant().routingService.setAvailability(availability);
  }

  @Authorized()
  @Mutation(() => Conversation, { description: "Moves the conversation to a team (routed by its strategy) and/or an agent." })
  transferConversation(
    @Arg('conversationId', () => ID) conversationId: string,
    @Arg('teamId', () => ID, { nullable: true }) teamId: string | null,
    @Arg('assigneeId', () => ID, { nullable: true }) assigneeId: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<Conversation> {
    return ctx.tenant().routingService.transfer(conversationId, teamId ?? null, assigneeId ?? null);
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
    return ctx.tenant().routingService.deleteTeam(id, moveConversationsTo ?? null);
  }
}

@Resolver(() => User)
export class UserRoutingResolver {
  @FieldResolver(() => Availability, { description: 'Only ONLINE agents receive conversations by automatic assignment.' })
  availability(@Root() user: User, @Ctx() ctx: RequestContext): Promise<Availability> {
    return availabilityLoader(ctx).load(user.id);
  }

  @FieldResolver(() => [Team])
  teams(@Root() user: User, @Ctx() ctx: RequestContext): Promise<TeamRow[]> {
    return userTeamsLoader(ctx).load(user.id);
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
