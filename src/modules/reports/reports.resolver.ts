import { Arg, Authorized, Ctx, ID, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../../graphql/context.js';
import { Report } from './report.type.js';

@Resolver(() => Report)
export class ReportResolver {
  @Authorized()
  @Query(() => Report, { description: 'ADMIN; an AGENT gets their own row in byAgent only.' })
  report(
    @Arg('from', () => Date) from: Date,
    @Arg('to', () => Date) to: Date,
    @Arg('teamId', () => ID, { nullable: true }) teamId: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<Report> {
    return ctx.tenant().reportsService.report(from, to, teamId ?? null);
  }
}
