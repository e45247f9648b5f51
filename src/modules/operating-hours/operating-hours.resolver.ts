import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../graphql/context.js';
import { Role } from '../users/role.js';
import { OperatingHoursInput } from './operating-hours.input.js';
import type { OperatingHoursRow } from './operating-hours.schema.js';
import { OperatingHoursService } from './operating-hours.service.js';
import { OperatingHours } from './operating-hours.type.js';

@Resolver(() => OperatingHours)
export class OperatingHoursResolver {
  @Authorized()
  @Query(() => [OperatingHours])
  operatingHours(@Ctx() ctx: RequestContext): Promise<OperatingHoursRow[]> {
    return new OperatingHoursService(ctx.scope()).list();
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => OperatingHours)
  createOperatingHours(@Arg('input', () => OperatingHoursInput) input: OperatingHoursInput, @Ctx() ctx: RequestContext): Promise<OperatingHoursRow> {
    return new OperatingHoursService(ctx.scope()).create(input);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => OperatingHours)
  updateOperatingHours(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => OperatingHoursInput) input: OperatingHoursInput,
    @Ctx() ctx: RequestContext,
  ): Promise<OperatingHoursRow> {
    return new OperatingHoursService(ctx.scope()).update(id, input);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Boolean, { description: 'The numbers using it become always open.' })
  deleteOperatingHours(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext): Promise<boolean> {
    return new OperatingHoursService(ctx.scope()).delete(id);
  }

  @FieldResolver(() => Boolean, { description: "Whether the schedule is open at the server's current time." })
  openNow(@Root() hours: OperatingHoursRow, @Ctx() ctx: RequestContext): boolean {
    return new OperatingHoursService(ctx.scope()).openNow(hours);
  }
}
