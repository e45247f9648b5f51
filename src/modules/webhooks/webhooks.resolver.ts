import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../graphql/context.js';
import { decodeSeqCursor, toSeqPage } from '../../shared/seq-page.js';
import { pageSize } from '../../graphql/pagination.js';
import { Role } from '../users/role.js';
import {
  CreateWebhookEndpointInput,
  CreatedWebhookEndpoint,
  UpdateWebhookEndpointInput,
  WebhookDeliveryConnection,
  WebhookEndpoint,
  type WebhookDeliveryStatus,
  type WebhookEventType,
} from './webhook.type.js';
import type { WebhookEndpointRow } from './webhooks.schema.js';

function toEndpoint(row: WebhookEndpointRow): WebhookEndpoint {
  return { id: row.id, url: row.url, events: row.events as WebhookEventType[], enabled: row.enabled, disabledReason: row.disabledReason, createdAt: row.createdAt };
}

@Resolver(() => WebhookEndpoint)
export class WebhookEndpointResolver {
  @Authorized(Role.ADMIN)
  @Query(() => [WebhookEndpoint], { description: 'ADMIN; newest first.' })
  async webhookEndpoints(@Ctx() ctx: RequestContext): Promise<WebhookEndpoint[]> {
    return (await ctx.tenant().webhooksService.list()).map(toEndpoint);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => CreatedWebhookEndpoint)
  async createWebhookEndpoint(
    @Arg('input', () => CreateWebhookEndpointInput) input: CreateWebhookEndpointInput,
    @Ctx() ctx: RequestContext,
  ): Promise<CreatedWebhookEndpoint> {
    const { endpoint, signingSecret } = await ctx.tenant().webhooksService.create(input);
    return { endpoint: toEndpoint(endpoint), signingSecret };
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => WebhookEndpoint)
  async updateWebhookEndpoint(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateWebhookEndpointInput) input: UpdateWebhookEndpointInput,
    @Ctx() ctx: RequestContext,
  ): Promise<WebhookEndpoint> {
    return toEndpoint(await ctx.tenant().webhooksService.update(id, input));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Boolean, { description: 'Its pending deliveries are dropped.' })
  deleteWebhookEndpoint(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext): Promise<boolean> {
    return ctx.tenant().webhooksService.delete(id);
  }

  @FieldResolver(() => WebhookDeliveryConnection, { description: 'Newest first, with each one\'s last status.' })
  async deliveries(
    @Root() endpoint: WebhookEndpoint,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<WebhookDeliveryConnection> {
    const limit = pageSize(first);
    const before = decodeSeqCursor(after);
    const rows = await ctx.tenant().webhookEndpoints.deliveries(endpoint.id, limit + 1, before);
    const nodes = rows.map((r) => ({
      id: String(r.id),
      event: r.eventType as WebhookEventType,
      status: r.status as WebhookDeliveryStatus,
      attempts: r.attempts,
      lastResponseStatus: r.lastResponseStatus,
      webhookId: r.webhookId,
      createdAt: r.createdAt,
      deliveredAt: r.deliveredAt,
    }));
    return toSeqPage(nodes, limit, before !== null, (n) => Number(n.id));
  }
}
