import { Arg, Authorized, Ctx, FieldResolver, Int, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../graphql/context.js';
import { notFound } from '../../shared/errors.js';
import { twilioAccountLoader } from '../../graphql/loaders.js';
import { Role } from '../users/role.js';
import { TwilioAccount, UnroutedMessage, UnroutedMessageConnection } from './unrouted-message.type.js';

@Resolver(() => UnroutedMessage)
export class UnroutedMessageResolver {
  @Authorized(Role.ADMIN)
  @Query(() => UnroutedMessageConnection, {
    description: 'ADMIN: signed inbound texts that reached no registered number of the tenant; kept, never dropped.',
  })
  unroutedMessages(
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<UnroutedMessageConnection> {
    return ctx.tenant().unroutedMessagesService.list(first, after);
  }

  @FieldResolver(() => TwilioAccount)
  async twilioAccount(@Root() message: UnroutedMessage, @Ctx() ctx: RequestContext): Promise<TwilioAccount> {
    const account = await twilioAccountLoader(ctx).load(message.twilioAccountId);
    if (!account) throw notFound('Twilio account');
    return account;
  }
}
