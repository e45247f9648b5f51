import { Authorized, ID, Resolver, Root, Subscription, type SubscribeResolverData } from 'type-graphql';
import type { LiveEvent } from '../../events/event-bus.js';
import type { RequestContext } from '../../graphql/context.js';

/** Ids only: the conversation is gone (or out of view), there is no row to load. */
class IdIterator implements AsyncIterableIterator<string> {
  constructor(private readonly source: AsyncIterableIterator<LiveEvent>) {}
  async next(): Promise<IteratorResult<string>> {
    const r = await this.source.next();
    return r.done ? { value: undefined, done: true } : { value: r.value.id, done: false };
  }
  async return(): Promise<IteratorResult<string>> {
    await this.source.return?.();
    return { value: undefined, done: true };
  }
  [Symbol.asyncIterator](): AsyncIterableIterator<string> {
    return this;
  }
}

@Resolver()
export class ConversationRemovedResolver {
  @Authorized()
  @Subscription(() => ID, {
    description: "A conversation left the caller's view (transferred to a team they are not in, contact blocked or erased).",
    subscribe: ({ context }: SubscribeResolverData<unknown, object, RequestContext>) =>
      new IdIterator(context.deps.events.subscribe(context.user.tenantId, { types: ['conversationRemoved'] })),
  })
  conversationRemoved(@Root() id: string): string {
    return id;
  }
}
