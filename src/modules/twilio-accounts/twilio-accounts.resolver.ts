import { Arg, Authorized, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../graphql/context.js';
import { Role } from '../users/role.js';
import { ConnectTwilioAccountInput } from './connect-twilio-account.input.js';
import { webhookUrls } from './credentials.js';
import { TwilioAccount } from './twilio-account.type.js';

@Resolver(() => TwilioAccount)
export class TwilioAccountResolver {
  @Authorized()
  @Query(() => [TwilioAccount])
  twilioAccounts(@Ctx() ctx: RequestContext): Promise<TwilioAccount[]> {
    return ctx.tenant().twilioAccountsService.list();
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => TwilioAccount)
  connectTwilioAccount(
    @Arg('input', () => ConnectTwilioAccountInput) input: ConnectTwilioAccountInput,
    @Ctx() ctx: RequestContext,
  ): Promise<TwilioAccount> {
    return ctx.tenant().twilioAccountsService.connect(input);
  }

  @FieldResolver(() => String, { description: "This account's own URL for Twilio's 'A message comes in' webhook." })
  inboundWebhookUrl(@Root() account: TwilioAccount, @Ctx() ctx: RequestContext): string {
    return webhookUrls(ctx.deps.config.publicUrl, account.webhookKey).inbound;
  }

  @FieldResolver(() => String, { description: "This account's own URL for message status callbacks." })
  statusCallbackUrl(@Root() account: TwilioAccount, @Ctx() ctx: RequestContext): string {
    return webhookUrls(ctx.deps.config.publicUrl, account.webhookKey).status;
  }
}
