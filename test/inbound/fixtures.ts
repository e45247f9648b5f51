import { randomInt } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import { contacts, conversations, messages } from '../../src/db/schema.js';
import type { LiveEvent, LiveEventType } from '../../src/events/event-bus.js';
import type { FakeTwilio } from '../helpers/fake-twilio.js';
import type { TestServer } from '../helpers/test-server.js';
import { setUpInbox, type Inbox } from '../helpers/inbox.js';
import type { connectAccount } from '../helpers/twilio-setup.js';

export const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

export { randomUsNumber } from '../helpers/inbox.js';

export type TenantWithNumber = Inbox;

/** A tenant with a Twilio account on the fake and one INBOUND_OUTBOUND number. */
export function tenantWithNumber(
  server: TestServer,
  fake: FakeTwilio,
  accountExtra: Parameters<typeof connectAccount>[4] = {},
): Promise<TenantWithNumber> {
  return setUpInbox(server, fake, { tenantName: `Tenant ${randomInt(1_000_000)}`, accountExtra });
}

export function dbOf(server: TestServer) {
  return server.app.deps.db;
}

export async function messagesOf(server: TestServer, tenantId: string) {
  return dbOf(server).select().from(messages).where(eq(messages.tenantId, tenantId)).orderBy(asc(messages.createdAt), asc(messages.id));
}

export async function conversationsOf(server: TestServer, tenantId: string) {
  return dbOf(server).select().from(conversations).where(eq(conversations.tenantId, tenantId)).orderBy(asc(conversations.createdAt));
}

export async function contactOf(server: TestServer, tenantId: string, phone: string) {
  const [row] = await dbOf(server)
    .select()
    .from(contacts)
    .where(and(eq(contacts.tenantId, tenantId), eq(contacts.phoneNumber, phone)));
  return row;
}

/** Collects a tenant's live events until `stop()`; `settle()` waits for in-flight deliveries. */
export function collectEvents(server: TestServer, tenantId: string, types: LiveEventType[]) {
  const events: LiveEvent[] = [];
  const iterator = server.app.deps.events.subscribe(tenantId, { types });
  const done = (async () => {
    for await (const e of iterator) events.push(e);
  })();
  return {
    events,
    async settle(ms = 50) {
      await new Promise((r) => setTimeout(r, ms));
    },
    async stop() {
      await iterator.return?.();
      await done;
    },
  };
}
