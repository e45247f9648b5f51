import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { setUpInbox, type Inbox } from '../helpers/inbox.js';
import { seedConversations } from '../helpers/seed.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

// The inbox list and a conversation's messages are read newest first on every dashboard load:
// they must come from an index scan, not a sort of the tenant's every row. (drizzle's .desc()
// once made DESC NULLS LAST indexes that `ORDER BY ... DESC` could not use.)
let server: TestServer;
let fake: FakeTwilio;
let inbox: Inbox;

beforeAll(async () => {
  fake = await startFakeTwilio();
  server = await startTestServer({ DISPATCHER_ENABLED: 'false' });
  inbox = await setUpInbox(server, fake);
  await seedConversations(server.app.deps.db, {
    tenantId: inbox.tenant.tenantId,
    phoneNumberId: inbox.number.id,
    twilioAccountId: inbox.account.id,
    count: 2000,
  });
  await server.app.deps.db.execute(sql`analyze`);
});
afterAll(async () => {
  await server?.close();
  await fake?.close();
});

async function plan(query: ReturnType<typeof sql>): Promise<string> {
  const result = await server.app.deps.db.execute(sql`explain ${query}`);
  const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Array<Record<string, string>>;
  return rows.map((r) => r['QUERY PLAN']).join('\n');
}

describe('query plans', () => {
  it('pages conversations newest first from conversations_tenant_activity_idx, without a sort', async () => {
    const text = await plan(
      sql`select * from conversations where tenant_id = ${inbox.tenant.tenantId}::uuid order by last_message_at desc, id desc limit 21`,
    );
    expect(text).toMatch(/Index Scan Backward using conversations_tenant_activity_idx/);
    expect(text).not.toMatch(/Sort/);
  });

  it("pages a conversation's messages newest first from messages_tenant_conversation_idx", async () => {
    const [conversation] = (await server.app.deps.db.execute(sql`select id from conversations limit 1`).then((r) =>
      Array.isArray(r) ? r : (r as { rows: unknown[] }).rows,
    )) as Array<{ id: string }>;
    const text = await plan(
      sql`select * from messages where tenant_id = ${inbox.tenant.tenantId}::uuid and conversation_id = ${conversation!.id}::uuid
          order by created_at desc, id desc limit 21`,
    );
    expect(text).toMatch(/Index Scan Backward using messages_tenant_conversation_idx/);
  });
});
