import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../graphql/context.js';
import { PhoneNumber } from '../phone-numbers/phone-number.type.js';
import type { PhoneNumberRow } from '../phone-numbers/phone-numbers.schema.js';
import { PhoneNumbersService } from '../phone-numbers/phone-numbers.service.js';
import { Role } from '../users/role.js';
import { ConnectTwilioAccountInput } from './connect-twilio-account.input.js';
import { webhookUrls } from './credentials.js';
import { TwilioAccount } from './twilio-account.type.js';
import { TwilioAccountsService } from './twilio-accounts.service.js';
import { UpdateTwilioAccountInput } from './update-twilio-account.input.js';

@Resolver(() => TwilioAccount)
export class TwilioAccountResolver {
  @Authorized()
  @Query(() => [TwilioAccount])
  twilioAccounts(@Ctx() ctx: RequestContext): Promise<TwilioAccount[]> {
    return new TwilioAccountsService(ctx.scope()).list();
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => TwilioAccount)
  connectTwilioAccount(
    @Arg('input', () => ConnectTwilioAccountInput) input: ConnectTwilioAccountInput,
    @Ctx() ctx: RequestContext,
  ): Promise<TwilioAccount> {
    return new TwilioAccountsService(ctx.scope()).connect(input);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => TwilioAccount)
  updateTwilioAccount(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateTwilioAccountInput) input: UpdateTwilioAccountInput,
    @Ctx() ctx: RequestContext,
  ): Promise<TwilioAccount> {
    return new TwilioAccountsService(ctx.scope()).update(id, input);
  }

  @FieldResolver(() => String, { description: "This account's own URL for Twilio's 'A message comes in' webhook." })
  inboundWebhookUrl(@Root() account: TwilioAccount, @Ctx() ctx: RequestContext): string {
    return webhookUrls(ctx.deps.config.publicUrl, account.webhookKey).inbound;
  }

  @FieldResolver(() => String, { description: "This account's own URL for message status callbacks." })
  statusCallbackUrl(@Root() account: TwilioAccount, @Ctx() ctx: RequestContext): string {
    return webhookUrls(ctx.deps.config.publicUrl, account.webhookKey).status;
  }

  @FieldResolver(() => [PhoneNumber], { description: 'Active numbers of this account.' })
  phoneNumbers(@Root() account: TwilioAccount, @Ctx() ctx: RequestContext): Promise<PhoneNumber[]> {
    // One query for every account of the result.
    return ctx
      .loader<string, PhoneNumberRow[]>('phoneNumbersByAccount', async (accountIds) => {
        const rows = await new PhoneNumbersService(ctx.scope()).listByAccounts(accountIds);
        return accountIds.map((id) => rows.filter((r) => r.twilioAccountId === id));
      })
      .load(account.id);
  }
}
