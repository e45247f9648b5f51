import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../graphql/context.js';
import { OperatingHours } from '../operating-hours/operating-hours.type.js';
import type { OperatingHoursRow } from '../operating-hours/operating-hours.schema.js';
import { OperatingHoursService } from '../operating-hours/operating-hours.service.js';
import { TwilioAccount } from '../twilio-accounts/twilio-account.type.js';
import { TwilioAccountsService } from '../twilio-accounts/twilio-accounts.service.js';
import { Role } from '../users/role.js';
import { AddPhoneNumberInput } from './add-phone-number.input.js';
import { PhoneNumber } from './phone-number.type.js';
import { PhoneNumbersService } from './phone-numbers.service.js';
import { UpdatePhoneNumberInput } from './update-phone-number.input.js';

@Resolver(() => PhoneNumber)
export class PhoneNumberResolver {
  @Authorized()
  @Query(() => [PhoneNumber], { description: "The tenant's active numbers." })
  phoneNumbers(@Ctx() ctx: RequestContext): Promise<PhoneNumber[]> {
    return new PhoneNumbersService(ctx.scope()).list();
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => PhoneNumber)
  addPhoneNumber(@Arg('input', () => AddPhoneNumberInput) input: AddPhoneNumberInput, @Ctx() ctx: RequestContext): Promise<PhoneNumber> {
    return new PhoneNumbersService(ctx.scope()).add(input);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => PhoneNumber)
  updatePhoneNumber(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdatePhoneNumberInput) input: UpdatePhoneNumberInput,
    @Ctx() ctx: RequestContext,
  ): Promise<PhoneNumber> {
    return new PhoneNumbersService(ctx.scope()).update(id, input);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Boolean, { description: 'Soft delete: conversations keep the number; it can be registered again.' })
  removePhoneNumber(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext): Promise<boolean> {
    return new PhoneNumbersService(ctx.scope()).remove(id);
  }

  @FieldResolver(() => TwilioAccount)
  async twilioAccount(@Root() phoneNumber: PhoneNumber, @Ctx() ctx: RequestContext): Promise<TwilioAccount> {
    const account = await ctx
      .byId('twilioAccount', (ids) => new TwilioAccountsService(ctx.scope()).findByIds(ids))
      .load(phoneNumber.twilioAccountId);
    if (!account) throw new Error(`twilio account ${phoneNumber.twilioAccountId} of number ${phoneNumber.id} is missing`);
    return account;
  }

  @FieldResolver(() => OperatingHours, {
    nullable: true,
    description: 'When set, the number is closed outside these hours (OUT_OF_HOURS messages, no assignment).',
  })
  async operatingHours(@Root() phoneNumber: PhoneNumber, @Ctx() ctx: RequestContext): Promise<OperatingHoursRow | null> {
    if (!phoneNumber.operatingHoursId) return null;
    return ctx.byId('operatingHours', (ids) => new OperatingHoursService(ctx.scope()).findByIds(ids)).load(phoneNumber.operatingHoursId);
  }
}
