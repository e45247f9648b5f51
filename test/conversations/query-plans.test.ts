import 'reflect-metadata';
import { sql } from 'drizzle-orm';
import type { Db } from '../../src/db/client.js';
import { ConversationsRepository } from '../../src/modules/conversations/conversations.repository.js';
import { MessagesRepository } from '../../src/modules/messages/messages.repository.js';
import { sendReplies } from '../../src/modules/messages/reply-batch.repository.js';
import { OutboxQueue, enqueueSql } from '../../src/modules/outbox/outbox.repository.js';
import { OutboxBatchRepository } from '../../src/modules/outbox/outbox-send.repository.js';
import { Role } from '../../src/modules/users/role.js';
import { captureSql, explain, explainGeneric, planCacheUse } from '../helpers/capture-sql.js';
import { joinsFor } from '../../src/modules/inbox/inbox-joins.js';
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

  // The inbox page reads its contact, assignee and last message in its own statement (inbox-joins.ts).
  // Its generic plan (what a prepared statement runs after five calls) estimates LIMIT $n blind:
  // as plain joins, that plan hashed the contacts, users and messages tables whole on every page
  // (bench: the page cost Postgres more than the four statements it replaced). Each relation must
  // be a probe by key under the page.
  it('reads the inbox page and its relations by key in the generic plan: no sequential scan, no hash join', async () => {
    const db = server.app.deps.db;
    const relations = joinsFor(new Set(['contact', 'assignee', 'lastMessage', 'phoneNumber']));
    for (const viewer of [undefined, { userId: inbox.tenant.userId, role: Role.AGENT }]) {
      const [statement] = await captureSql(db, (c) => new ConversationsRepository(c, inbox.tenant.tenantId).list(20, null, {}, viewer, relations));
      const text = await explainGeneric(db, statement!);
      if (process.env['SHOW_PLAN']) console.log(text);
      expect(text).toMatch(/Index Scan Backward using conversations_tenant_activity_idx/);
      expect(text).not.toMatch(/Seq Scan on (conversations|contacts|messages)\b/);
      expect(text).not.toMatch(/Hash/);
      expect(text).toMatch(/Index Scan using \w+ on contacts[^\n]*\n\s*Index Cond: \(\(tenant_id = conversations.tenant_id\) AND \(id = conversations.contact_id\)\)/);
      expect(text).toMatch(/Index Scan using \w+ on messages[^\n]*\n\s*Index Cond: \(\(tenant_id = conversations.tenant_id\) AND \(id = conversations.last_message_id\)\)/);
      // The fixture's one user and one number: a one-page table may be read whole, but per row
      // (under its Limit), never hashed for a join.
      for (const table of ['users', 'phone_numbers']) expect(text).toMatch(new RegExp(`Limit[^\\n]*\\n\\s*->\\s*(Index|Seq) Scan[^\\n]* on ${table}`));
    }
  });

  // Planned afresh on every call, the page spent more in planning (0.4 ms) than in execution
  // (0.15 ms): its LIMIT was a parameter, so the generic plan looked costlier than any custom one.
  it('keeps the generic plan of the inbox page after five executions (no planning per page)', async () => {
    const db = server.app.deps.db;
    for (const [first, viewer] of [[20, { userId: inbox.tenant.userId, role: Role.AGENT }], [50, undefined]] as const) {
      const [statement] = await captureSql(db, (c) =>
        new ConversationsRepository(c, inbox.tenant.tenantId).list(first, null, {}, viewer, joinsFor(new Set(['contact', 'assignee', 'lastMessage']))),
      );
      const plans = await planCacheUse(db, statement!, 8);
      expect(plans).toEqual({ custom: 5, generic: 3 });
    }
  });

  it("pages a conversation's messages newest first from messages_tenant_conversation_idx", async () => {
    const text = await planOf((db) => new MessagesRepository(db, inbox.tenant.tenantId).pages([seeded[0]!.id], 20, null));
    // The window per conversation reads the index backwards (no sort under it); only the few
    // ranked rows are sorted at the end.
    expect(text).toMatch(/WindowAgg[\s\S]*Index (Only )?Scan Backward using messages_tenant_conversation_idx/);
    expect(text).not.toMatch(/Seq Scan on messages/);
  });

  // Each sendMessage writes through this statement (group commit): every row of the batch must be
  // found by index (a hash join over a sequential scan would read the whole table per batch, as
  // the ingest statement's NOT EXISTS once did when statistics lagged).
  it('writes a batch of replies by per-row look-ups: no sequential scan of conversations, contacts or messages, no hash join', async () => {
    const viewer = { userId: inbox.tenant.userId, role: Role.AGENT };
    const text = await planOf((db) =>
      sendReplies(
        db,
        seeded.slice(0, 3).map((c) => ({
          tenantId: inbox.tenant.tenantId,
          messageId: crypto.randomUUID(),
          viewer,
          values: { conversationId: c.id, body: 'Hi', media: [], authorId: inbox.tenant.userId, segments: 1, idempotencyKey: null },
        })),
        enqueueSql,
      ),
    );
    if (process.env['SHOW_PLAN']) console.log(text);
    expect(text).not.toMatch(/Seq Scan on (conversations|contacts|messages)\b/);
    expect(text).toMatch(/Index Scan using conversations_pkey on conversations/);
    expect(text).toMatch(/Index Scan using contacts_pkey on contacts/);
    // The fixture's one number: a one-page table may be read whole, but per row (under its
    // Limit), never hashed for a join.
    expect(text).toMatch(/Limit[^\n]*\n\s*->\s*(Index|Seq) Scan[^\n]* on phone_numbers/);
    expect(text).not.toMatch(/Hash\s*\([^\n]*\n\s*->\s*Seq Scan on phone_numbers/);
  });

  // The dispatcher's statements for a batch of jobs: each message found by its key, whatever the
  // batch (an unnest of arrays, estimated at 100 rows, must not turn into a hash join over a
  // sequential scan of every message).
  it("runs the dispatcher's batch statements by key: no sequential scan of messages, conversations or contacts", async () => {
    const jobs = seeded.slice(0, 8).map((c, i) => ({ id: i + 1, tenantId: inbox.tenant.tenantId, messageId: c.lastMessageId }));
    const batches = (db: Db) => new OutboxBatchRepository(db, 'plan-test');
    const plans = [
      await planOf((db) => new OutboxQueue(db, 'plan-test').claim({ limit: 32, leaseSeconds: 30, pacing: null })),
      await planOf((db) => batches(db).load(jobs)),
      await planOf((db) => batches(db).markSending(jobs.map((j) => ({ ...j, holdMs: 30_000 })))),
      await planOf((db) => batches(db).recordSent(jobs.map((j) => ({ ...j, twilioSid: `SM${j.id}` })))),
    ];
    for (const text of plans) {
      if (process.env['SHOW_PLAN']) console.log(text);
      expect(text).not.toMatch(/Seq Scan on (messages|conversations|contacts)\b/);
    }
  });

  // Last: it adds tenants. Tenants differ in size, and with the tenant's id visible to the planner
  // every custom plan for a large tenant looked cheaper than the generic plan (made for an average
  // one), so the page was planned on every call. Its values reach the planner through sub-selects.
  it('keeps the generic plan of the inbox page for a tenant far larger than the average', async () => {
    const db = server.app.deps.db;
    for (let i = 0; i < 30; i++) {
      const small = await setUpInbox(server, fake, { tenantName: `Small ${i}` });
      await seedConversations(db, { tenantId: small.tenant.tenantId, phoneNumberId: small.number.id, twilioAccountId: small.account.id, count: 20 });
    }
    await db.execute(sql`analyze`);
    const agent = { userId: inbox.tenant.userId, role: Role.AGENT };
    for (const after of [null, { ts: seeded[1000]!.lastMessageAt, id: seeded[1000]!.id }]) {
      const [statement] = await captureSql(db, (c) =>
        new ConversationsRepository(c, inbox.tenant.tenantId).list(20, after, {}, agent, joinsFor(new Set(['contact', 'assignee', 'lastMessage']))),
      );
      expect(await planCacheUse(db, statement!, 8)).toEqual({ custom: 5, generic: 3 });
    }
  });
});
