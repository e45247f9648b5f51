import { Arg, Authorized, Ctx, FieldResolver, Float, Int, Mutation, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../graphql/context.js';
import { Conversation } from '../conversations/conversation.type.js';
import { PhoneNumber } from '../phone-numbers/phone-number.type.js';
import { Team } from '../teams/team.type.js';
import { Role } from '../users/role.js';
import { User } from '../users/user.type.js';
import { AutomatedMessage, SetAutomatedMessageInput } from './automated-message.type.js';
import type { AutomatedMessageRow } from './automations.schema.js';

@Resolver(() => AutomatedMessage)
export class AutomatedMessageResolver {
  @Authorized(Role.ADMIN)
  @Mutation(() => AutomatedMessage, { description: "Creates or replaces the number's message for this trigger." })
  setAutomatedMessage(@Arg('input', () => SetAutomatedMessageInput) input: SetAutomatedMessageInput, @Ctx() ctx: RequestContext): Promise<AutomatedMessageRow> {
    return ctx.tenant().automationsService.set(input);
  }
}

@Resolver(() => PhoneNumber)
export class PhoneNumberAutomationsResolver {
  @FieldResolver(() => [AutomatedMessage])
  automatedMessages(@Root() phoneNumber: PhoneNumber, @Ctx() ctx: RequestContext): Promise<AutomatedMessageRow[]> {
    return ctx
      .loader<string, AutomatedMessageRow[]>('automatedMessagesByNumber', async (ids) => {
        const rows = await ctx.tenant().automationsService.listByNumbers(ids);
        return ids.map((id) => rows.filter((r) => r.phoneNumberId === id));
      })
      .load(phoneNumber.id);
  }
}

@Resolver(() => Conversation)
export class ConversationCsatResolver {
  @FieldResolver(() => Int, { nullable: true, description: '1 to 5 from the customer\'s answer to the CSAT_SURVEY message.' })
  csatRating(@Root() conversation: Conversation, @Ctx() ctx: RequestContext): Promise<number | null> {
    return ctx
      .loader<string, number | null>('csatRating', async (ids) => {
        const rows = await ctx.tenant().automationsService.ratingsOf(ids);
        const byId = new Map(rows.map((r) => [r.id, r.rating]));
        return ids.map((id) => byId.get(id) ?? null);
      })
      .load(conversation.id);
  }
}

@Resolver(() => User)
export class UserCsatResolver {
  @FieldResolver(() => Float, {
    nullable: true,
    description: 'Average csatRating of conversations this user resolved since the given time (all time when omitted).',
  })
  csatAverage(
    @Root() user: User,
    @Arg('since', () => Date, { nullable: true }) since: Date | null,
    @Ctx() ctx: RequestContext,
  ): Promise<number | null> {
    return ctx.tenant().automationsService.userCsatAverage(user.id, since ?? null);
  }
}

@Resolver(() => Team)
export class TeamCsatResolver {
  @FieldResolver(() => Float, {
    nullable: true,
    description: "Average csatRating of the team's conversations resolved since the given time (all time when omitted).",
  })
  csatAverage(
    @Root() team: Team,
    @Arg('since', () => Date, { nullable: true }) since: Date | null,
    @Ctx() ctx: RequestContext,
  ): Promise<number | null> {
    return ctx.tenant().automationsService.teamCsatAverage(team.id, since ?? null);
  }
}
