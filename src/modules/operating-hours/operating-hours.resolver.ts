import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../graphql/context.js';
import { Role } from '../users/role.js';
import { OperatingHoursInput } from './operating-hours.input.js';
import type { OperatingHoursRow } from './operating-hours.schema.js';
import { OperatingHours } from './operating-hours.type.js';

@Resolver(() => OperatingHours)
export class OperatingHoursResolver {
  @Authorized()
  @Query(() => [OperatingHours])
  operatingHours(@Ctx() ctx: RequestContext): Promise<OperatingHoursRow[]> {
    return ctx.tenant().operatingHoursService.list();
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => OperatingHours)
  createOperatingHours(@Arg('input', () => OperatingHoursInput) input: OperatingHoursInput, @Ctx() ctx: RequestContext): Promise<OperatingHoursRow> {
    return ctx.tenant().operatingHoursService.create(input);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => OperatingHours)
  updateOperatingHours(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => OperatingHoursInput) input: OperatingHoursInput,
    @Ctx() ctx: RequestContext,
  ): Promise<OperatingHoursRow> {
    return ctx.tenant().operatingHoursService.update(id, input);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Boolean, { description: 'The numbers using it become always open.' })
  deleteOperatingHours(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext): Promise<boolean> {
    return ctx.tenant().operatingHoursService.delete(id);
  }

  @FieldResolver(() => Boolean, { description: "Whether the schedule is open at the server's current time." })
  openNow(@Root() hours: OperatingHoursRow, @Ctx() ctx: RequestContext): boolean {
    return ctx.tenant().operatingHoursService.openNow(hours);
  }
}
