import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { MessageDirection, MessageStatus } from '../../src/modules/messages/message.enums.js';
import { messages } from '../../src/modules/messages/messages.schema.js';
import { OutboxQueue } from '../../src/modules/outbox/outbox.repository.js';
import { outbox } from '../../src/modules/outbox/outbox.schema.js';
import { createLogger } from '../../src/shared/logger.js';
import type { ChildServer } from '../helpers/child-server.js';
import { inboundSmsParams, type FakeTwilio } from '../helpers/fake-twilio.js';
import { randomUsNumber } from '../helpers/inbox.js';
import { usingPostgres } from '../helpers/test-db.js';
import { startTwoProcesses, type TwoProcesses } from '../helpers/two-processes.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Batch claiming on one real Postgres: a claim is one statement (UPDATE over a FOR UPDATE SKIP
 * LOCKED subquery), so dispatchers claiming at the same time split the due jobs between them and
 * never take a job twice; two server processes share a burst and send every message exactly once.
 */
describe.skipIf(!usingPostgres)('batch claiming on Postgres (TEST_DATABASE_URL)', () => {
  let set: TwoProcesses;
  let fake: FakeTwilio;
  let sql: postgres.Sql;
  let one: ChildServer;
  let two: ChildServer;
  let token: string;
  let account: { id: string; accountSid: string; authToken: string; inboundWebhookUrl: string };
  let number: { id: string; e164: string };
  let tenantId: string;

  beforeAll(async () => {
    // Small batches, so each process claims many times while the other does too; debug logs
    // name each send ('message sent'), so the test sees which process sent what.
    set = await startTwoProcesses({
      env: { DISPATCHER_CONCURRENCY: '8', DISPATCHER_LEASE_SECONDS: '10', LOG_LEVEL: 'debug' },
      tenantName: 'Batch Co',
    });
    ({ fake, sql, one, two, token, account } = set);
    tenantId = (await sql<{ tenant_id: string }[]>`select tenant_id from twilio_accounts where id = ${account.id}`)[0]!.tenant_id;
    number = await set.addNumber();
  }, 180_000);

  afterAll(async () => {
    await set?.stop();
  });

  async function openConversation(): Promise<string> {
    const customer = randomUsNumber('650');
    const params = inboundSmsParams({ accountSid: account.accountSid, from: customer, to: number.e164, body: 'hello' });
    expect((await one.postSigned(account.inboundWebhookUrl, account.authToken, params)).status).toBe(200);
    const [row] = await sql<{ id: string }[]>`
      select c.id from conversations c join contacts ct on ct.id = c.contact_id where ct.phone_number = ${customer}`;
    return row!.id;
  }

  /** Sends this process has logged ('message sent', one per message it handed to Twilio). */
  const sentBy = (server: ChildServer) =>
    server
      .output()
      .split('\n')
      .filter((line) => line.includes('"msg":"message sent"') && line.includes(`"pid":${server.pid}`)).length;

  it('two processes share a burst: every message POSTed exactly once, and both dispatchers sent part of it', async () => {
    fake.reset();
    fake.setLatency(10);
    const conversationId = await openConversation();
    const before = { one: sentBy(one), two: sentBy(two) };
    const bodies = Array.from({ length: 300 }, (_, i) => `burst-${i}`);
    // Queued through both processes at once, each waking its own dispatcher.
    for (let i = 0; i < bodies.length; i += 30) {
      const results = await Promise.all(
        bodies.slice(i, i + 30).map((body, j) =>
          [one, two][(i + j) % 2]!.gql(`mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`, { input: { conversationId, body } }, token),
        ),
      );
      for (const r of results) if (r.errors) throw new Error(JSON.stringify(r.errors));
    }
    await waitFor(
      async () => (await sql<{ n: number }[]>`select count(*)::int as n from messages where body like 'burst-%' and status = 'SENT'`)[0]!.n === 300,
      { timeoutMs: 60_000, what: '300 SENT' },
    );
    const posts = fake.messageRequests.filter((r) => String(r.params['Body']).startsWith('burst-'));
    expect(posts).toHaveLength(300);
    expect(new Set(posts.map((p) => p.params['Body'])).size).toBe(300);
    expect(posts.every((p) => p.status === 201)).toBe(true);
    expect((await sql`select id from outbox`).length).toBe(0);
    // Both dispatchers took part (each logs its own sends); together they sent each message once.
    await waitFor(() => sentBy(one) - before.one + (sentBy(two) - before.two) === 300 || undefined, {
      timeoutMs: 10_000,
      what: 'the send logs',
    });
    expect(sentBy(one) - before.one).toBeGreaterThan(0);
    expect(sentBy(two) - before.two).toBeGreaterThan(0);
  }, 120_000);

  it('concurrent claims split the due jobs: a claim skips the rows another claim holds, and no job is claimed twice', async () => {
    const conversationId = await openConversation();
    // The servers are done: their dispatchers must not take the jobs this test claims by hand.
    await Promise.all([one.stop(), two.stop()]);
    const database = await openDatabase({ databaseUrl: set.testDb.env.DATABASE_URL!, dataDir: '', poolSize: 4, logger: createLogger('silent') });
    try {
      const db = database.db;
      const rows = await db
        .insert(messages)
        .values(
          Array.from({ length: 40 }, (_, i) => ({
            tenantId,
            conversationId,
            twilioAccountId: account.id,
            direction: MessageDirection.OUTBOUND,
            body: `claim-${i}`,
            status: MessageStatus.QUEUED,
            segments: 1,
          })),
        )
        .returning({ id: messages.id });
      const jobs = await db
        .insert(outbox)
        .values(rows.map((r) => ({ tenantId, messageId: r.id, phoneNumberId: number.id })))
        .returning({ id: outbox.id });
      const ids = jobs.map((j) => j.id);

      const a = new OutboxQueue(db, 'test-a');
      const b = new OutboxQueue(db, 'test-b');
      // A's claim holds its rows' locks until its transaction commits; B claims meanwhile.
      let claimedByB: number[] = [];
      const claimedByA = await db.transaction(async (tx) => {
        const mine = await a.with(tx).claim({ limit: 15, leaseSeconds: 30, pacing: null });
        claimedByB = (await b.claim({ limit: 100, leaseSeconds: 30, pacing: null })).filter((j) => ids.includes(j.id)).map((j) => j.id);
        return mine.map((j) => j.id);
      });
      expect(claimedByA).toHaveLength(15);
      expect(claimedByA.every((id) => ids.includes(id))).toBe(true);
      // B took the rest (the oldest due first), none of A's.
      expect(claimedByB.filter((id) => claimedByA.includes(id))).toEqual([]);
      expect(new Set([...claimedByA, ...claimedByB])).toEqual(new Set(ids));
      // Leased now: nobody claims them again before the lease runs out.
      const again = await new OutboxQueue(db, 'test-c').claim({ limit: 100, leaseSeconds: 30, pacing: null });
      expect(again.filter((j) => ids.includes(j.id))).toEqual([]);
      const owners = await sql<{ locked_by: string; attempts: number }[]>`select locked_by, attempts from outbox where id = any(${ids})`;
      expect(owners.filter((o) => o.locked_by === 'test-a')).toHaveLength(15);
      expect(owners.filter((o) => o.locked_by === 'test-b')).toHaveLength(25);
      expect(owners.every((o) => o.attempts === 1)).toBe(true);
      await sql`delete from outbox where id = any(${ids})`;
    } finally {
      await database.close();
    }
  }, 60_000);
});
