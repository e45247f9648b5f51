import 'reflect-metadata';
import { sql } from 'drizzle-orm';
import type { Db } from '../../src/db/client.js';
import { ConversationsRepository } from '../../src/modules/conversations/conversations.repository.js';
import { MessagesRepository } from '../../src/modules/messages/messages.repository.js';
import { captureSql, explain } from '../helpers/capture-sql.js';
import { describe, expect, it } from 'vitest';
import type { FakeTwilio } from '../helpers/fake-twilio.js';
import { setUpInbox, type Inbox } from '../helpers/inbox.js';
import { seedConversations, type SeededConversation } from '../helpers/seed.js';
import type { TestServer } from '../helpers/test-server.js';
import { serverWithFakeTwilio } from '../helpers/suite.js';

// The inbox list and a conversation's messages are read newest first on every dashboard load:
// they must come from an index scan, not a sort of the tenant's every row. (drizzle's .desc()
// once made DESC NULLS LAST indexes that `ORDER BY ... DESC` could not use.)
let server: TestServer;
let fake: FakeTwilio;
let inbox: Inbox;
let seeded: SeededConversation[];

serverWithFakeTwilio({ DISPATCHER_ENABLED: 'false' }, async (started) => {
  ({ server, fake } = started);
  inbox = await setUpInbox(server, fake);
  seeded = await seedConversations(server.app.deps.db, {
    tenantId: inbox.tenant.tenantId,
    phoneNumberId: inbox.number.id,
    twilioAccountId: inbox.account.id,
    count: 2000,
  });
  await server.app.deps.db.execute(sql`analyze`);
}, { resetFakeAfterEach: false });

/** The plan of the one statement a repository call sends (captured from the call, not a copy). */
async function planOf(call: (db: Db) => Promise<unknown>): Promise<string> {
  const db = server.app.deps.db;
  const statements = await captureSql(db, call);
  expect(statements).toHaveLength(1);
  return explain(db, statements[0]!);
}

describe('query plans', () => {
  it('pages conversations newest first from conversations_tenant_activity_idx, without a sort', async () => {
    const text = await planOf((db) => new ConversationsRepository(db, inbox.tenant.tenantId).list(20, null));
    expect(text).toMatch(/Index Scan Backward using conversations_tenant_activity_idx/);
    expect(text).not.toMatch(/Sort/);
  });

  it('pages on after a cursor from the same index, without a sort', async () => {
    const text = await planOf((db) =>
      new ConversationsRepository(db, inbox.tenant.tenantId).list(20, { ts: seeded[1000]!.lastMessageAt, id: seeded[1000]!.id }),
    );
    expect(text).toMatch(/Index (Only )?Scan Backward using conversations_tenant_activity_idx/);
    expect(text).not.toMatch(/Sort/);
  });

  it("pages a conversation's messages newest first from messages_tenant_conversation_idx", async () => {
    const text = await planOf((db) => new MessagesRepository(db, inbox.tenant.tenantId).pages([seeded[0]!.id], 20, null));
    // The window per conversation reads the index backwards (no sort under it); only the few
    // ranked rows are sorted at the end.
    expect(text).toMatch(/WindowAgg[\s\S]*Index (Only )?Scan Backward using messages_tenant_conversation_idx/);
    expect(text).not.toMatch(/Seq Scan on messages/);
  });
});
