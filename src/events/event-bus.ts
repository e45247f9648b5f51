import type { Logger } from '../shared/logger.js';

export type LiveEventType =
  | 'messageAdded'
  | 'messageUpdated'
  | 'conversationUpdated'
  /** A user's session state changed (deactivated, role, revoked): instances drop cached auth and close sockets. */
  | 'authChanged'
  | 'conversationRemoved'
  | 'userUpdated'
  /** A tenant's teams or their members changed: instances drop their cached memberships (visibility). */
  | 'teamsChanged'
  /** A contact's name, block or opt-out changed. */
  | 'contactUpdated'
  /** A campaign's status or progress changed (throttled). */
  | 'campaignUpdated'
  /** An API key was revoked: every instance closes the sockets opened with it. */
  | 'apiKeyRevoked'
  /** A Twilio account's token, settings or connection changed: every instance drops its cached account (id = account id). */
  | 'twilioAccountChanged';

/**
 * What changed in a conversationUpdated, known only on the publishing instance (it does not cross
 * the wire): publish listeners such as outgoing webhooks tell an assignment from a mark-as-read.
 */
export type ConversationChange = 'opened' | 'assigned' | 'resolved';
/** What else an inbound message did, known only on the publishing instance (like ConversationChange). */
export type MessageChange = 'optedOut';

/** Small by design: it crosses Postgres NOTIFY (8,000-byte limit); receivers load the row by id. */
export interface LiveEvent {
  type: LiveEventType;
  tenantId: string;
  /** The message id (message events), the conversation id (conversationUpdated), the user id (authChanged, userUpdated) or the contact id (contactUpdated). */
  id: string;
  /** Empty for contact events. */
  conversationId: string;
  /**
   * conversationUpdated after an assignment or team change: who could see it before,
   * `<previous team id>|<previous assignee id>` (either may be empty), so subscribers who lost
   * sight of it get conversationRemoved. conversationRemoved: the one user it is meant for.
   */
  extra?: string;
  /** Local hint for publish listeners (outgoing webhooks); never sent to other instances. */
  change?: ConversationChange | MessageChange;
  /**
   * Local only, never sent to other instances: the event's row as the publishing transaction
   * committed it, so this instance's subscribers need not load it back (one statement and one
   * round trip less between a webhook's commit and its delivery). Other instances load it by id.
   */
  committed?: CommittedRow;
}

/**
 * A row a publisher already holds, in the shape live subscribers load (live/live-rows.ts): the
 * row of the event's type and, for a message or conversation, who holds the conversation.
 */
export interface CommittedRow {
  row: object;
  holder: { teamId: string | null; assigneeId: string | null } | null;
}

/** Called on the publishing instance for every event it publishes (outgoing webhooks). */
export type PublishListener = (events: readonly LiveEvent[]) => void;

/**
 * Carries events to the other server instances. The bus delivers to its own subscribers itself,
 * at once: a transport skips what it sent when it comes back on its channel.
 */
export interface EventTransport {
  readonly name: string;
  /** `deliver` receives the events other instances published. */
  start(deliver: (events: LiveEvent[]) => void): Promise<void>;
  publish(events: LiveEvent[]): Promise<void>;
  close(): Promise<void>;
  /** Rejects when the transport cannot carry events right now (readiness). */
  ping?(): Promise<void>;
}

/** With PGlite or a single instance there is nobody else to tell: the bus's local delivery is all. */
export class InProcessTransport implements EventTransport {
  readonly name = 'in-process';

  async start(): Promise<void> {}

  async publish(): Promise<void> {}

  async close(): Promise<void> {}
}

export interface SubscribeFilter {
  types: readonly LiveEventType[];
  conversationId?: string | null;
}

const MAX_QUEUED_PER_SUBSCRIBER = 1000;

class Subscriber implements AsyncIterableIterator<LiveEvent> {
  private readonly queue: LiveEvent[] = [];
  private waiting: ((result: IteratorResult<LiveEvent>) => void) | null = null;
  private done = false;

  constructor(
    readonly tenantId: string,
    private readonly filter: SubscribeFilter,
    private readonly onClose: (s: Subscriber) => void,
    private readonly onOverflow: () => void,
  ) {}

  accepts(event: LiveEvent): boolean {
    if (!this.filter.types.includes(event.type)) return false;
    return !this.filter.conversationId || this.filter.conversationId === event.conversationId;
  }

  push(event: LiveEvent): void {
    if (this.done) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: event, done: false });
      return;
    }
    // A client that stops reading must not grow the server's memory without bound.
    if (this.queue.length >= MAX_QUEUED_PER_SUBSCRIBER) {
      this.queue.shift();
      this.onOverflow();
    }
    this.queue.push(event);
  }

  next(): Promise<IteratorResult<LiveEvent>> {
    const event = this.queue.shift();
    if (event) return Promise.resolve({ value: event, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<LiveEvent>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    this.queue.length = 0;
    this.waiting?.({ value: undefined, done: true });
    this.waiting = null;
    this.onClose(this);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<LiveEvent> {
    return this;
  }
}

/**
 * Tenant-scoped live events. Services publish after commit; the bus hands them to its local
 * subscribers at once (no round trip through Postgres or Redis on the way) and the transport
 * carries them to the other instances; each instance hands them to its local subscribers of that
 * tenant only. Every local subscriber of an event receives the same object, so a row loader
 * memoised on it loads once per instance however many subscribers there are.
 */
export class EventBus {
  private readonly byTenant = new Map<string, Set<Subscriber>>();
  /** In-process consumers of every tenant's events of one type (caches, socket supervisors). */
  private readonly systemListeners = new Map<LiveEventType, Set<(event: LiveEvent) => void>>();
  private readonly publishListeners: PublishListener[] = [];
  /** Open throttle windows of publishThrottled, by event type and id. */
  private readonly throttled = new Map<string, { pending: LiveEvent | null; timer: NodeJS.Timeout }>();
  private shared = 0;
  /** Events a subscriber too far behind (MAX_QUEUED_PER_SUBSCRIBER waiting) never got: its oldest are let go. */
  overflowed = 0;

  constructor(
    private readonly transport: EventTransport,
    private readonly logger: Logger,
  ) {}

  get transportName(): string {
    return this.transport.name;
  }

  async start(): Promise<void> {
    await this.transport.start((events) => this.deliverLocally(events));
  }

  /** Call only after the transaction that made the change has committed. Never throws. */
  publish(...events: LiveEvent[]): void {
    if (events.length === 0) return;
    for (const listener of this.publishListeners) {
      try {
        listener(events);
      } catch (err) {
        this.logger.error({ err }, 'live event publish listener failed');
      }
    }
    // A copy without the listeners' hint: local subscribers never share the publisher's objects.
    // The committed row stays (it is what a load would return). Delivered after the publisher's
    // synchronous work, in order.
    const copies = events.map(({ change: _localHint, ...event }) => event);
    queueMicrotask(() => this.deliverLocally(copies));
    this.transport.publish(events).catch((err: unknown) => {
      this.logger.error({ err, count: events.length }, 'live event publish failed');
    });
  }

  /**
   * Publishes `event` at most once per `everyMs` for its key (type + id), trailing edge: a burst
   * of changes (e.g. a campaign's delivery receipts) becomes one event now and one at the end of
   * the window, so the last change is always published and subscribers re-read the current row.
   */
  publishThrottled(event: LiveEvent, everyMs: number): void {
    const key = `${event.type}:${event.id}`;
    const window = this.throttled.get(key);
    if (window) {
      window.pending = event;
      return;
    }
    this.publish(event);
    const entry: { pending: LiveEvent | null; timer: NodeJS.Timeout } = {
      pending: null,
      timer: setTimeout(() => {
        this.throttled.delete(key);
        if (entry.pending) this.publishThrottled(entry.pending, everyMs);
      }, everyMs),
    };
    entry.timer.unref();
    this.throttled.set(key, entry);
  }

  /** Sees every event this instance publishes, once, before it is sent; must not throw or block. */
  onPublish(listener: PublishListener): void {
    this.publishListeners.push(listener);
  }


  /** Rejects when live events cannot cross instances right now (e.g. Redis unreachable). */
  async ping(): Promise<void> {
    await this.transport.ping?.();
  }

  subscribe(tenantId: string, filter: SubscribeFilter): AsyncIterableIterator<LiveEvent> {
    const subscriber = new Subscriber(tenantId, filter, (s) => this.remove(s), () => this.overflowed++);
    let set = this.byTenant.get(tenantId);
    if (!set) this.byTenant.set(tenantId, (set = new Set()));
    set.add(subscriber);
    return subscriber;
  }


  /**
   * Live subscriptions served by another one's subscriber (identical subscriptions share one, see
   * live/shared-subscriptions.ts); they count in `subscriberCount` like their own would.
   */
  countShared(delta: number): void {
    this.shared += delta;
  }

  /** Live subscriptions on this instance, shared ones included. */
  get subscriberCount(): number {
    let n = this.shared;
    for (const set of this.byTenant.values()) n += set.size;
    return n;
  }


  /** Calls `listener` with every event of `type`, of every tenant, that reaches this instance. */
  listen(type: LiveEventType, listener: (event: LiveEvent) => void): () => void {
    let set = this.systemListeners.get(type);
    if (!set) this.systemListeners.set(type, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  private deliverLocally(events: LiveEvent[]): void {
    for (const event of events) {
      const listeners = this.systemListeners.get(event.type);
      if (listeners) {
        for (const listener of listeners) {
          try {
            listener(event);
          } catch (err) {
            this.logger.error({ err, type: event.type }, 'live event listener failed');
          }
        }
      }
      const set = this.byTenant.get(event.tenantId);
      if (!set) continue;
      for (const subscriber of set) if (subscriber.accepts(event)) subscriber.push(event);
    }
  }

  private remove(subscriber: Subscriber): void {
    const set = this.byTenant.get(subscriber.tenantId);
    if (!set) return;
    set.delete(subscriber);
    if (set.size === 0) this.byTenant.delete(subscriber.tenantId);
  }

  async close(): Promise<void> {
    // Flush what a throttle window still holds: the last change must not be lost at shutdown.
    for (const { pending, timer } of this.throttled.values()) {
      clearTimeout(timer);
      if (pending) this.publish(pending);
    }
    this.throttled.clear();
    for (const set of [...this.byTenant.values()]) for (const s of [...set]) s.close();
    await this.transport.close();
  }
}
