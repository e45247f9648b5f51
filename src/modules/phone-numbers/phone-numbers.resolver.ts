import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../graphql/context.js';
import { OperatingHours } from '../operating-hours/operating-hours.type.js';
import type { OperatingHoursRow } from '../operating-hours/operating-hours.schema.js';
import { phoneNumbersByAccountLoader, required, twilioAccountLoader } from '../../graphql/loaders.js';
import { TwilioAccount } from '../twilio-accounts/twilio-account.type.js';
import { Role } from '../users/role.js';
import { AddPhoneNumberInput } from './add-phone-number.input.js';
import { UpdatePhoneNumberInput } from './update-phone-number.input.js';
import { PhoneNumber } from './phone-number.type.js';

@Resolver(() => PhoneNumber)
export class PhoneNumberResolver {
  @Authorized()
  @Query(() => [PhoneNumber], { description: "The tenant's active numbers." })
  phoneNumbers(@Ctx() ctx: RequestContext): Promise<PhoneNumber[]> {
    return ctx.tenant().phoneNumbersService.list();
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => PhoneNumber)
  addPhoneNumber(@Arg('input', () => AddPhoneNumberInput) input: AddPhoneNumberInput, @Ctx() ctx: RequestContext): Promise<PhoneNumber> {
    return ctx.tenant().phoneNumbersService.add(input);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => PhoneNumber)
  updatePhoneNumber(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdatePhoneNumberInput) input: UpdatePhoneNumberInput,
    @Ctx() ctx: RequestContext,
  ): Promise<PhoneNumber> {
    return ctx.tenant().phoneNumbersService.update(id, input);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Boolean, {
    description:
      "Soft delete: conversations keep the number; it can be registered again. Its SmsUrl and SmsFallbackUrl are cleared at Twilio when configureTwilioWebhook had set them (and they are still ours).",
  })
  removePhoneNumber(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext): Promise<boolean> {
    return ctx.tenant().phoneNumbersService.remove(id);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Boolean, {
    description:
      'Its webhook URLs stop working (404) and its numbers are removed (their SmsUrl cleared at Twilio when configureTwilioWebhook set it); queued replies fail; history is kept.',
  })
  disconnectTwilioAccount(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext): Promise<boolean> {
    return ctx.tenant().phoneNumbersService.disconnectAccount(id);
  }

  @FieldResolver(() => TwilioAccount)
  twilioAccount(@Root() phoneNumber: PhoneNumber, @Ctx() ctx: RequestContext): TwilioAccount | Promise<TwilioAccount> {
    return required(
      twilioAccountLoader(ctx).loadNow(phoneNumber.twilioAccountId),
      () => `twilio account ${phoneNumber.twilioAccountId} of number ${phoneNumber.id} is missing`,
    );
  }

  @FieldResolver(() => OperatingHours, {
    nullable: true,
    description: 'When set, the number is closed outside these hours (OUT_OF_HOURS messages, no assignment).',
  })
  async operatingHours(@Root() phoneNumber: PhoneNumber, @Ctx() ctx: RequestContext): Promise<OperatingHoursRow | null> {
    if (!phoneNumber.operatingHoursId) return null;
    return ctx.byId('operatingHours', (ids) => ctx.tenant().operatingHoursService.findByIds(ids)).load(phoneNumber.operatingHoursId);
  }
}

/**
 * The number fields of TwilioAccount. They live with phone numbers (which depend on accounts), so
 * the twilio-accounts module never imports the phone-numbers module.
 */
@Resolver(() => TwilioAccount)
export class TwilioAccountNumbersResolver {
  @FieldResolver(() => [PhoneNumber], { description: 'Active numbers of this account.' })
  phoneNumbers(@Root() account: TwilioAccount, @Ctx() ctx: RequestContext): Promise<PhoneNumber[]> {
    // One query for every account of the result.
    return phoneNumbersByAccountLoader(ctx).load(account.id);
  }
}
