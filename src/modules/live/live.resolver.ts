import { Arg, Authorized, Ctx, ID, Resolver, Root, Subscription, type ClassType, type SubscribeResolverData } from 'type-graphql';
import type { AuthUser } from '../../shared/deps.js';
import { canSee, type Viewer } from '../conversations/visibility.js';
import { Role } from '../users/role.js';
import { User } from '../users/user.type.js';
import { previousHolderOf } from '../../events/live-events.js';
import type { LiveEvent, LiveEventType } from '../../events/event-bus.js';
import type { RequestContext } from '../../graphql/context.js';
import type { AppDeps } from '../../shared/deps.js';
import { notFound } from '../../shared/errors.js';
import { Conversation } from '../conversations/conversation.type.js';
import { Message } from '../messages/message.type.js';
import type { AudienceFeed } from './audience-feeds.js';
import { HydratingIterator } from './hydrating-iterator.js';
import { LiveRowLoader, type Hydrated } from './live-rows.js';
import { Contact } from '../contacts/contact.type.js';

/** One row loader per server (deps): live-rows.ts batches the loads of a tick into one statement. */
const rowLoaders = new WeakMap<AppDeps, LiveRowLoader>();

function hydrate(deps: AppDeps, event: LiveEvent): Promise<Hydrated | null> {
  let loader = rowLoaders.get(deps);
  if (!loader) rowLoaders.set(deps, (loader = new LiveRowLoader(deps.db, deps.logger)));
  return loader.load(event);
}

/**
 * The visibility rule for one subscriber: ADMINs see everything, AGENTs what is theirs or
 * team-less without more ado, else per their current teams (cached per instance).
 */
export async function visibleToSubscriber(deps: AppDeps, user: Viewer & { tenantId: string }, holder: Hydrated['holder']): Promise<boolean> {
  if (user.role === Role.ADMIN || holder === null) return true;
  if (holder.assigneeId === user.userId || holder.teamId === null) return true;
  // An API key (no user) belongs to no team.
  return canSee(user, holder, user.userId ? await deps.memberships.teamsOf(user.tenantId, user.userId) : new Set<string>());
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
    const conversation = await tenant.conversations.findById(conversationId, context.user);
    if (!conversation) throw notFound('Conversation');
  }
  const events = context.deps.events.subscribe(tenantId, { types, conversationId });
  // A row deleted before it could be loaded is skipped rather than sent as an error, and so is
  // one the subscriber may not see (checked per event: transfers move visibility). A group that
  // serves several agents (context.liveAudience) passes every row with its holder instead, and
  // SharedSubscriptions applies this same rule to each member before writing its frame.
  const audience = context.liveAudience;
  return new HydratingIterator(events, async (event) => {
    const hydrated = await hydrate(context.deps, event);
    if (!hydrated) return null;
    if (audience) {
      audience.holder = hydrated.holder;
      return hydrated.row as T;
    }
    if (!(await visibleToSubscriber(context.deps, context.user, hydrated.holder))) return null;
    return hydrated.row as T;
  });
}

/**
 * The ids of conversations that leave the subscriber's view: an assignment or team change after
 * which they no longer see a conversation they saw before, or a removal for everyone.
 */
async function conversationRemovals({ context }: SubscribeResolverData<unknown, unknown, RequestContext>): Promise<AsyncIterableIterator<string>> {
  const { deps, user } = context;
  const events = deps.events.subscribe(user.tenantId, { types: ['conversationUpdated', 'conversationRemoved'] });
  return new HydratingIterator(events, async (event) => {
    if (event.type === 'conversationRemoved') {
      if (event.extra === undefined) return event.id;
      return event.extra === user.userId && user.role !== Role.ADMIN ? event.id : null;
    }
    const previous = previousHolderOf(event);
    if (!previous || user.role === Role.ADMIN) return null;
    const teamIds = user.userId ? await deps.memberships.teamsOf(user.tenantId, user.userId) : new Set<string>();
    if (!canSee(user, previous, teamIds)) return null;
    const now = await hydrate(deps, event);
    return now?.holder && canSee(user, now.holder, teamIds) ? null : event.id;
  });
}

/**
 * The feeds whose events carry a row: each sends the event's row (as its tenant's subscriber may
 * see it), resolved against fresh loaders. `narrowable`: takes `conversationId`.
 */
// Keyed by AudienceFeed: the several-viewer groups (liveClass) rely on every row feed, and only
// those, reporting holders through context.liveAudience.
const ROW_FEEDS: Record<AudienceFeed, { type: () => ClassType; events: readonly LiveEventType[]; narrowable?: true; description: string }> = {
  messageAdded: {
    type: () => Message,
    events: ['messageAdded'],
    narrowable: true,
    description: "Inbound and outbound messages of the caller's tenant; one conversation when conversationId is given.",
  },
  messageUpdated: {
    type: () => Message,
    events: ['messageUpdated'],
    narrowable: true,
    description: "Status changes (SENT, DELIVERED, FAILED, ...) of the caller's tenant's messages.",
  },
  conversationUpdated: {
    type: () => Conversation,
    events: ['conversationUpdated'],
    description: "Assignment, status, read and activity changes of the caller's tenant's conversations.",
  },
  userUpdated: {
    type: () => User,
    events: ['userUpdated'],
    description: "Availability, role and active changes of the tenant's users (presence).",
  },
  contactUpdated: {
    type: () => Contact,
    events: ['contactUpdated'],
    description: "Name, block and opt-out changes of the tenant's contacts.",
  },
};

@Resolver()
export class LiveResolver {
  @Authorized()
  @Subscription(() => ID, {
    description: "A conversation left the caller's view (transferred to a team they are not in, contact blocked).",
    subscribe: (data) => conversationRemovals(data as SubscribeResolverData<unknown, unknown, RequestContext>),
  })
  conversationRemoved(@Root() conversationId: string): string {
    return conversationId;
  }
}

/**
 * One helper for every row feed: declares `field(@Root() row[, @Arg conversationId], @Ctx() ctx)`
 * on LiveResolver, as the decorators would on a written-out method.
 */
function declareRowFeed(field: string, feed: (typeof ROW_FEEDS)[AudienceFeed]): void {
  const prototype = LiveResolver.prototype as unknown as Record<string, unknown>;
  prototype[field] = function resolveRow(row: unknown, ...rest: unknown[]): unknown {
    // The subscription's context lives as long as it does: each event resolves against fresh rows.
    (rest[rest.length - 1] as RequestContext).clearLoaders();
    return row;
  };
  Root()(prototype, field, 0);
  if (feed.narrowable) Arg('conversationId', () => ID, { nullable: true })(prototype, field, 1);
  Ctx()(prototype, field, feed.narrowable ? 2 : 1);
  const descriptor = Object.getOwnPropertyDescriptor(prototype, field)!;
  Subscription(feed.type, { description: feed.description, subscribe: (data) => subscribe(data, feed.events) })(prototype, field, descriptor);
  Authorized()(prototype, field, descriptor);
}

for (const [field, feed] of Object.entries(ROW_FEEDS)) declareRowFeed(field, feed);
