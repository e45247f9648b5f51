import { Arg, Args, ArgsType, Authorized, Ctx, Field, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription, type SubscribeResolverData } from 'type-graphql';
import type { RequestContext } from '../../graphql/context.js';
import { badInput, notFound } from '../../shared/errors.js';
import { phoneNumberLoader, required } from '../../graphql/loaders.js';
import { pageSize } from '../../graphql/pagination.js';
import { HydratingIterator } from '../live/hydrating-iterator.js';
import { Message } from '../messages/message.type.js';
import type { MessageRow } from '../messages/messages.schema.js';
import { PhoneNumber } from '../phone-numbers/phone-number.type.js';
import { Role } from '../users/role.js';
import { CampaignRecipientStatus } from './campaign.enums.js';
import { CampaignRecipientInput, CreateCampaignInput } from './campaign.input.js';
import { Campaign, CampaignConnection, CampaignRecipientConnection, CampaignStats } from './campaign.type.js';
import type { CampaignRow } from './campaigns.schema.js';

@ArgsType()
class CampaignsArgs {
  @Field(() => Int, { nullable: true })
  first?: number | null;

  @Field(() => String, { nullable: true })
  after?: string | null;
}

@ArgsType()
class RecipientsArgs {
  @Field(() => Int, { nullable: true })
  first?: number | null;

  @Field(() => String, { nullable: true })
  after?: string | null;

  @Field(() => CampaignRecipientStatus, { nullable: true })
  status?: CampaignRecipientStatus | null;
}

function encode(parts: string[]): string {
  return Buffer.from(parts.join('|'), 'utf8').toString('base64url');
}

function decode(raw: string | null | undefined, count: number): string[] | null {
  if (raw === null || raw === undefined) return null;
  const parts = Buffer.from(raw, 'base64url').toString('utf8').split('|');
  if (parts.length !== count || parts.some((p) => p === '')) throw badInput('after is not a valid cursor', 'after');
  return parts;
}

@Resolver(() => Campaign)
export class CampaignResolver {
  @Authorized()
  @Query(() => CampaignConnection, { description: 'Newest first.' })
  async campaigns(@Args(() => CampaignsArgs) args: CampaignsArgs, @Ctx() ctx: RequestContext): Promise<CampaignConnection> {
    const limit = pageSize(args.first);
    const cursor = decode(args.after, 2);
    const after = cursor ? { createdAt: new Date(cursor[0]!), id: cursor[1]! } : null;
    if (after && Number.isNaN(after.createdAt.getTime())) throw badInput('after is not a valid cursor', 'after');
    const rows = await ctx.tenant().campaignsService.list(limit, after);
    const page = rows.slice(0, limit);
    const edges = page.map((node) => ({ cursor: encode([node.createdAt.toISOString(), node.id]), node: node as Campaign }));
    return {
      edges,
      pageInfo: { hasNextPage: rows.length > limit, hasPreviousPage: after !== null, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
    };
  }

  @Authorized()
  @Query(() => Campaign, { nullable: true })
  async campaign(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext): Promise<Campaign | null> {
    return ((await ctx.tenant().campaignsService.find(id)) as Campaign | undefined) ?? null;
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Campaign)
  createCampaign(@Arg('input', () => CreateCampaignInput) input: CreateCampaignInput, @Ctx() ctx: RequestContext): Promise<Campaign> {
    return ctx.tenant().campaignsService.create(input) as Promise<Campaign>;
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Campaign, { description: 'DRAFT only; at most 10,000 a call; duplicates of earlier recipients are skipped.' })
  addCampaignRecipients(
    @Arg('id', () => ID) id: string,
    @Arg('recipients', () => [CampaignRecipientInput]) recipients: CampaignRecipientInput[],
    @Ctx() ctx: RequestContext,
  ): Promise<Campaign> {
    return ctx.tenant().campaignsService.addRecipients(id, recipients) as Promise<Campaign>;
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Campaign, { description: 'DRAFT → SCHEDULED: starts by itself at that time.' })
  scheduleCampaign(@Arg('id', () => ID) id: string, @Arg('at', () => Date) at: Date, @Ctx() ctx: RequestContext): Promise<Campaign> {
    return ctx.tenant().campaignsService.schedule(id, at) as Promise<Campaign>;
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Campaign, { description: 'DRAFT, SCHEDULED or PAUSED → RUNNING. Other transitions are BAD_USER_INPUT.' })
  startCampaign(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext): Promise<Campaign> {
    return ctx.tenant().campaignsService.start(id) as Promise<Campaign>;
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Campaign, { description: 'RUNNING → PAUSED: no new sends within a second; texts already handed to the outbox finish.' })
  pauseCampaign(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext): Promise<Campaign> {
    return ctx.tenant().campaignsService.pause(id) as Promise<Campaign>;
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Campaign, { description: 'Any status but COMPLETED → CANCELLED: recipients not yet sent to are skipped.' })
  cancelCampaign(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext): Promise<Campaign> {
    return ctx.tenant().campaignsService.cancel(id) as Promise<Campaign>;
  }

  @FieldResolver(() => PhoneNumber)
  phoneNumber(@Root() campaign: Campaign, @Ctx() ctx: RequestContext): PhoneNumber | Promise<PhoneNumber> {
    return required(
      phoneNumberLoader(ctx).loadNow(campaign.phoneNumberId),
      () => `number ${campaign.phoneNumberId} of campaign ${campaign.id} is missing`,
    );
  }

  @FieldResolver(() => CampaignStats, {
    description: 'Each recipient is in exactly one of queued, sent, delivered, failed or skipped (READ counts as delivered, UNDELIVERED as failed).',
  })
  async stats(@Root() campaign: Campaign, @Ctx() ctx: RequestContext): Promise<CampaignStats> {
    const stats = await ctx
      .loader<string, CampaignStats>('campaignStats', async (ids) => {
        const found = await ctx.tenant().campaignsService.stats(ids);
        return ids.map((id) => found.get(id) ?? { recipients: 0, queued: 0, sent: 0, delivered: 0, failed: 0, skipped: 0, replied: 0 });
      })
      .load(campaign.id);
    return stats;
  }

  @FieldResolver(() => CampaignRecipientConnection, { description: 'In the order they were added.' })
  async recipients(@Root() campaign: Campaign, @Args(() => RecipientsArgs) args: RecipientsArgs, @Ctx() ctx: RequestContext): Promise<CampaignRecipientConnection> {
    const limit = pageSize(args.first);
    const cursor = decode(args.after, 1);
    const afterId = cursor ? Number(cursor[0]) : null;
    if (afterId !== null && !Number.isSafeInteger(afterId)) throw badInput('after is not a valid cursor', 'after');
    const rows = await ctx.tenant().campaignsService.recipients(campaign.id, limit, afterId, args.status ?? null);
    const page = rows.slice(0, limit);
    const messageIds = page.map((r) => r.messageId).filter((id): id is string => id !== null);
    const messages = new Map((await ctx.tenant().messages.findByIds(messageIds)).map((m) => [m.id, m]));
    const edges = page.map((r) => ({
      cursor: encode([String(r.id)]),
      node: {
        phoneNumber: r.phoneNumber,
        name: r.name,
        status: r.status,
        reason: r.reason,
        message: (r.messageId ? (messages.get(r.messageId) ?? null) : null) as Message | null,
        repliedAt: r.repliedAt,
      },
    }));
    return {
      edges,
      pageInfo: { hasNextPage: rows.length > limit, hasPreviousPage: afterId !== null, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
    };
  }

  @Authorized()
  @Subscription(() => Campaign, {
    description: "Progress of the tenant's campaigns, a few times a second at most; one campaign when campaignId is given.",
    subscribe: async ({ context, args }: SubscribeResolverData<unknown, { campaignId?: string | null }, RequestContext>) => {
      const { tenantId } = context.user;
      const campaignId = args.campaignId ?? null;
      const service = context.tenant().campaignsService;
      if (campaignId !== null && !(await service.find(campaignId))) throw notFound('Campaign');
      const events = context.deps.events.subscribe(tenantId, { types: ['campaignUpdated'], conversationId: campaignId });
      return new HydratingIterator(events, async (event) => ((await service.find(event.id)) as CampaignRow | undefined) ?? null);
    },
  })
  campaignUpdated(
    @Root() campaign: CampaignRow,
    @Arg('campaignId', () => ID, { nullable: true }) _campaignId: string | null,
    @Ctx() ctx: RequestContext,
  ): Campaign {
    ctx.clearLoaders();
    return campaign as Campaign;
  }
}

@Resolver(() => Message)
export class MessageCampaignResolver {
  @FieldResolver(() => Campaign, { nullable: true, description: 'The campaign that sent it, when source is CAMPAIGN.' })
  async campaign(@Root() message: MessageRow, @Ctx() ctx: RequestContext): Promise<Campaign | null> {
    if (!message.campaignId) return null;
    const row = await ctx.byId('messageCampaign', (ids) => ctx.tenant().campaignsService.findByIds(ids)).load(message.campaignId);
    return (row as Campaign | null) ?? null;
  }
}
