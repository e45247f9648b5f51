import { Arg, Authorized, Ctx, ID, Resolver, Root, Subscription, type SubscribeResolverData } from 'type-graphql';
import type { LiveEvent, LiveEventType } from '../../events/event-bus.js';
import type { RequestContext } from '../../graphql/context.js';
import type { AppDeps } from '../../shared/deps.js';
import { notFound } from '../../shared/errors.js';
import { TenantContext } from '../../tenant-context.js';
import { Conversation } from '../conversations/conversation.type.js';
import type { ConversationRow } from '../conversations/conversations.schema.js';
import { Message } from '../messages/message.type.js';
import type { MessageRow } from '../messages/messages.schema.js';
import { HydratingIterator } from './hydrating-iterator.js';

/**
 * The row behind each event, loaded once per event per instance: every local subscriber gets the
 * same LiveEvent object (see EventBus), so a thousand dashboards watching one tenant cost one
 * query per event, not a thousand. The repository is bound to the event's tenant, which the bus
 * already matched to the subscriber's verified tenant.
 */
const rows = new WeakMap<LiveEvent, Promise<MessageRow | ConversationRow | null>>();

function hydrate(deps: AppDeps, event: LiveEvent): Promise<MessageRow | ConversationRow | null> {
  let row = rows.get(event);
  if (!row) {
    const tenant = new TenantContext(deps, event.tenantId, null);
    const load = event.type === 'conversationUpdated' ? tenant.conversations.findById(event.id) : tenant.messages.findById(event.id);
    row = load.then(
      (r) => r ?? null,
      (err: unknown) => {
        deps.logger.error({ err, event }, 'could not load the row of a live event');
        return null;
      },
    );
    rows.set(event, row);
  }
  return row;
}

/**
 * The caller's tenant comes from the verified connection token, never from an argument;
 * `conversationId` only narrows, and one outside the tenant is NOT_FOUND, like a made-up one.
 */
async function subscribe<T>(
  { context, args }: SubscribeResolverData<unknown, { conversationId?: string | null }, RequestContext>,
  types: readonly LiveEventType[],
): Promise<AsyncIterableIterator<T>> {
  const { tenantId } = context.user;
  const tenant = context.tenant();
  const conversationId = args.conversationId ?? null;
  if (conversationId !== null) {
    const conversation = await tenant.conversations.findById(conversationId);
    if (!conversation) throw notFound('Conversation');
  }
  const events = context.deps.events.subscribe(tenantId, { types, conversationId });
  // A row deleted before it could be loaded is skipped rather than sent as an error.
  return new HydratingIterator(events, (event) => hydrate(context.deps, event) as Promise<T | null>);
}

@Resolver()
export class LiveResolver {
  @Authorized()
  @Subscription(() => Message, {
    description: "Inbound and outbound messages of the caller's tenant; one conversation when conversationId is given.",
    subscribe: (data) => subscribe<MessageRow>(data, ['messageAdded']),
  })
  messageAdded(
    @Root() message: MessageRow,
    @Arg('conversationId', () => ID, { nullable: true }) _conversationId: string | null,
    @Ctx() ctx: RequestContext,
  ): Message {
    ctx.clearLoaders();
    return message;
  }

  @Authorized()
  @Subscription(() => Message, {
    description: "Status changes (SENT, DELIVERED, FAILED, ...) of the caller's tenant's messages.",
    subscribe: (data) => subscribe<MessageRow>(data, ['messageUpdated']),
  })
  messageUpdated(
    @Root() message: MessageRow,
    @Arg('conversationId', () => ID, { nullable: true }) _conversationId: string | null,
    @Ctx() ctx: RequestContext,
  ): Message {
    ctx.clearLoaders();
    return message;
  }

  @Authorized()
  @Subscription(() => Conversation, {
    description: "Assignment, status, read and activity changes of the caller's tenant's conversations.",
    subscribe: (data) => subscribe<ConversationRow>(data, ['conversationUpdated']),
  })
  conversationUpdated(@Root() conversation: ConversationRow, @Ctx() ctx: RequestContext): Conversation {
    ctx.clearLoaders();
    return conversation;
  }
}
