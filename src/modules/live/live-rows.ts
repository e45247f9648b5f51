import type { CommittedRow, LiveEvent, LiveEventType } from '../../events/event-bus.js';
import type { Db } from '../../db/client.js';
import type { Logger } from '../../shared/logger.js';
import type { ContactRow } from '../contacts/contacts.schema.js';
import type { ConversationRow } from '../conversations/conversations.schema.js';
import type { MessageRow } from '../messages/messages.schema.js';
import type { UserRow } from '../users/users.schema.js';
import { loadContacts, loadConversations, loadMessagesWithHolders, loadUsers, type TenantKey } from './live.repository.js';

/**
 * The row behind a live event and, for conversation and message events, who holds the
 * conversation: a CommittedRow (what a publisher may attach to its event) of one of these tables.
 */
export type Hydrated = CommittedRow & { row: MessageRow | ConversationRow | UserRow | ContactRow };

type Loader = (db: Db, keys: readonly TenantKey[]) => Promise<Map<string, Hydrated>>;

const keyOf = (tenantId: string, id: string) => `${tenantId}/${id}`;

function keyed<R extends Hydrated['row']>(rows: R[], holder: (row: R) => Hydrated['holder']): Map<string, Hydrated> {
  return new Map(rows.map((row) => [keyOf(row.tenantId, row.id), { row, holder: holder(row) }]));
}

const messageRows: Loader = async (db, keys) =>
  new Map(
    (await loadMessagesWithHolders(db, keys)).map(({ message, teamId, assigneeId }) => [
      keyOf(message.tenantId, message.id),
      { row: message, holder: { teamId, assigneeId } },
    ]),
  );

/** The events whose subscribers receive a row, and how that row is loaded. */
const LOADERS: Partial<Record<LiveEventType, Loader>> = {
  messageAdded: messageRows,
  messageUpdated: messageRows,
  conversationUpdated: async (db, keys) => keyed(await loadConversations(db, keys), (row) => row),
  userUpdated: async (db, keys) => keyed(await loadUsers(db, keys), () => null),
  contactUpdated: async (db, keys) => keyed(await loadContacts(db, keys), () => null),
};

interface Waiting {
  event: LiveEvent;
  resolve: (hydrated: Hydrated | null) => void;
}

/**
 * Loads the rows of live events, once per event per instance and one statement per loader per
 * tick. Every local subscriber of an event receives the same LiveEvent object (EventBus), so the
 * load is memoised on it: a thousand dashboards watching one tenant cost one row, not a thousand.
 * The loads asked for while the event loop works through one batch of events (an ingest batch
 * of many tenants arrives as one publish) wait for the loop's check phase (setImmediate, after
 * every microtask of the delivery) and go out as one statement per loader, matched on
 * (tenant, id) pairs. The bus already matched each event's tenant to its subscribers' verified
 * tenant; the pair keeps the row in that tenant.
 */
export class LiveRowLoader {
  private readonly loaded = new WeakMap<LiveEvent, Promise<Hydrated | null>>();
  private waiting = new Map<Loader, Waiting[]>();
  private scheduled = false;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
  ) {}

  /** The event's row, or null when it is gone (deleted before it could be loaded) or failed to load (logged). */
  load(event: LiveEvent): Promise<Hydrated | null> {
    let row = this.loaded.get(event);
    if (row) return row;
    const loader = LOADERS[event.type];
    if (!loader) return Promise.resolve(null);
    if (event.committed) {
      // Published here with the row its transaction wrote (LiveEvent.committed): the publisher
      // attaches the row of the event's own type and tenant, as the loader would return it.
      row = Promise.resolve(event.committed as Hydrated);
      this.loaded.set(event, row);
      return row;
    }
    row = new Promise<Hydrated | null>((resolve) => {
      let list = this.waiting.get(loader);
      if (!list) this.waiting.set(loader, (list = []));
      list.push({ event, resolve });
    });
    this.loaded.set(event, row);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return row;
  }

  private flush(): void {
    this.scheduled = false;
    const batches = this.waiting;
    this.waiting = new Map();
    for (const [loader, list] of batches) void this.loadBatch(loader, list);
  }

  private async loadBatch(loader: Loader, list: Waiting[]): Promise<void> {
    const keys = new Map<string, TenantKey>();
    for (const { event } of list) keys.set(keyOf(event.tenantId, event.id), { tenantId: event.tenantId, id: event.id });
    try {
      const rows = await loader(this.db, [...keys.values()]);
      for (const { event, resolve } of list) resolve(rows.get(keyOf(event.tenantId, event.id)) ?? null);
    } catch (err) {
      this.logger.error({ err, events: list.length, type: list[0]!.event.type }, 'could not load the rows of live events');
      for (const { resolve } of list) resolve(null);
    }
  }
}
