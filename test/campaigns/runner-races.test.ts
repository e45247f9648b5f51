import 'reflect-metadata';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CampaignRunner } from '../../src/modules/campaigns/campaign-runner.js';
import { startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { customerTexts, randomUsNumber, setUpInbox } from '../helpers/inbox.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { usingPostgres } from '../helpers/test-db.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Two interleavings of the campaign runner with another transaction, each made deterministic with
 * a lock: the test holds a row in an open transaction, drives one runner pass, waits until the
 * pass waits for it (pg_blocking_pids), does what the other party commits, and commits.
 *
 * Postgres only: PGlite has one connection, so no statement of another can be waited for.
 */
describe.skipIf(!usingPostgres)('campaign runner passes racing another transaction (TEST_DATABASE_URL)', () => {
  let server: TestServer;
  let fake: FakeTwilio;
  let sql: postgres.Sql;

  beforeAll(async () => {
    // No dispatcher, so no campaign runner of the server's own: the test drives one, pass by pass,
    // and a queued text stays queued until the test says it was sent.
    [server, fake] = await Promise.all([startTestServer({ DISPATCHER_ENABLED: 'false' }), startFakeTwilio()]);
    sql = postgres(server.database.env.DATABASE_URL!, { max: 2, onnotice: () => {} });
  });
  afterAll(async () => {
    await sql?.end();
    await Promise.all([server?.close({ dropDatabase: true }), fake?.close()]);
  });

  // The completion rule under the interleaving that once completed a campaign with texts still
  // queued (two instances on one Postgres): this instance reads "nothing in flight", then another
  // instance hands over the last recipient and commits, then this instance finds nothing pending.
  // The test's transaction holds the campaign row FOR UPDATE, so the pass stops at its shared
  // lock right after its first look; the test hands the recipient over inside that transaction
  // and commits. The campaign must stay RUNNING until that text has left the outbox.
  it('stays RUNNING while the last recipient is in flight, then completes once it is sent', async () => {
    const inbox = await setUpInbox(server, fake);
    const token = inbox.tenant.token;
    const FIELDS = 'status completedAt stats { recipients queued sent }';
    const created = await server.gql(
      `mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }`,
      { input: { name: 'Race', phoneNumberId: inbox.number.id, body: 'Hello', recipients: [{ phoneNumber: randomUsNumber('212') }] } },
      token,
    );
    expect(created.errors).toBeUndefined();
    const campaignId = created.data!.createCampaign.id as string;
    const started = await server.gql(`mutation($id: ID!) { startCampaign(id: $id) { ${FIELDS} } }`, { id: campaignId }, token);
    expect(started.data!.startCampaign.status).toBe('RUNNING');
    const campaign = async () => (await server.gql(`query($id: ID!) { campaign(id: $id) { ${FIELDS} } }`, { id: campaignId }, token)).data!.campaign;

    // The text the other instance queues for the last recipient: a real queued outbound message
    // (an agent's reply; with no dispatcher it stays QUEUED).
    const conversationId = await customerTexts(server, inbox, randomUsNumber('646'), 'hi');
    const reply = await server.gql(`mutation($input: SendMessageInput!) { sendMessage(input: $input) { id status } }`, { input: { conversationId, body: 'queued' } }, token);
    expect(reply.data!.sendMessage.status).toBe('QUEUED');
    const messageId = reply.data!.sendMessage.id as string;

    const runner = new CampaignRunner(server.app.deps);
    let pass: Promise<boolean> | undefined;
    await sql.begin(async (otherInstance) => {
      await otherInstance`select id from campaigns where id = ${campaignId} for update`;
      const [{ pid }] = await otherInstance<{ pid: number }[]>`select pg_backend_pid() as pid`;
      pass = runner.round();
      // The runner has looked at what is in flight (nothing) and now waits for the campaign's lock.
      await waitFor(async () => (await sql`select 1 from pg_stat_activity where ${pid} = any(pg_blocking_pids(pid))`).length > 0, {
        what: "the runner's pass to wait for the campaign row",
      });
      // What a hand-over commits: the recipient QUEUED with its text, a campaign message with its
      // outbox job on the campaign's number (the reply's job is on that number already).
      await otherInstance`update messages set campaign_id = ${campaignId}, source = 'CAMPAIGN' where id = ${messageId}`;
      await otherInstance`update campaign_recipients set state = 'QUEUED', message_id = ${messageId} where campaign_id = ${campaignId}`;
      // Committed when this callback returns: the pass resumes and finds nothing pending.
    });
    expect(await pass).toBe(false);
    expect(await campaign()).toEqual({ status: 'RUNNING', completedAt: null, stats: { recipients: 1, queued: 1, sent: 0 } });
    // And so does every later pass while the text is queued.
    await runner.round();
    expect((await campaign()).status).toBe('RUNNING');

    // The text leaves the outbox (as the dispatcher records a send): the next pass completes the campaign.
    await sql.begin(async (dispatcher) => {
      await dispatcher`update messages set status = 'SENT' where id = ${messageId}`;
      await dispatcher`delete from outbox where message_id = ${messageId}`;
    });
    await runner.round();
    const done = await campaign();
    expect(done.status).toBe('COMPLETED');
    expect(done.completedAt).not.toBeNull();
  });

  // The hand-over's second look for a conversation: a customer's text opens a live conversation
  // after the runner looked for one (none) and before its insert of a new PENDING one. The insert
  // meets it at the live-conversation key and does nothing; the text must land in the customer's
  // conversation, not in a second one. The test inserts that conversation in its open transaction
  // and commits once the runner's insert waits for it.
  it('puts the campaign text in the conversation that appeared meanwhile, and opens no second one', async () => {
    const inbox = await setUpInbox(server, fake);
    const token = inbox.tenant.token;
    const customer = randomUsNumber('718');
    // A known contact with no live conversation: it texted once, and that conversation was resolved.
    const earlier = await customerTexts(server, inbox, customer, 'hello');
    const resolved = await server.gql(
      `mutation($id: ID!) { setConversationStatus(conversationId: $id, status: RESOLVED) { status contact { id } } }`,
      { id: earlier },
      token,
    );
    expect(resolved.errors).toBeUndefined();
    const contactId = resolved.data!.setConversationStatus.contact.id as string;

    const created = await server.gql(
      `mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }`,
      { input: { name: 'Second look', phoneNumberId: inbox.number.id, body: 'Sale today', recipients: [{ phoneNumber: customer }] } },
      token,
    );
    expect(created.errors).toBeUndefined();
    const campaignId = created.data!.createCampaign.id as string;
    expect((await server.gql(`mutation($id: ID!) { startCampaign(id: $id) { status } }`, { id: campaignId }, token)).errors).toBeUndefined();

    const runner = new CampaignRunner(server.app.deps);
    let pass: Promise<boolean> | undefined;
    let customersConversation = '';
    await sql.begin(async (inbound) => {
      // What the ingest of the customer's next text writes first: a new live conversation.
      const [row] = await inbound<{ id: string }[]>`
        insert into conversations (tenant_id, phone_number_id, contact_id, status)
        values (${inbox.tenant.tenantId}, ${inbox.number.id}, ${contactId}, 'OPEN') returning id`;
      customersConversation = row!.id;
      const [{ pid }] = await inbound<{ pid: number }[]>`select pg_backend_pid() as pid`;
      pass = runner.round();
      // The runner looked (the uncommitted row is invisible to it) and its insert now waits for ours.
      await waitFor(
        async () =>
          (await sql`select 1 from pg_stat_activity where ${pid} = any(pg_blocking_pids(pid)) and query ilike '%insert into "conversations"%'`).length > 0,
        { what: "the runner's insert of a PENDING conversation to wait for the customer's" },
      );
      // Committed when this callback returns.
    });
    expect(await pass).toBe(true);

    const texts = await sql<{ conversation_id: string }[]>`select conversation_id from messages where campaign_id = ${campaignId}`;
    expect(texts.map((t) => t.conversation_id)).toEqual([customersConversation]);
    const live = await sql<{ id: string }[]>`
      select id from conversations where contact_id = ${contactId} and phone_number_id = ${inbox.number.id} and status <> 'RESOLVED'`;
    expect(live.map((c) => c.id)).toEqual([customersConversation]);
    const recipients = await sql<{ state: string }[]>`select state from campaign_recipients where campaign_id = ${campaignId}`;
    expect(recipients.map((r) => r.state)).toEqual(['QUEUED']);
  });
});
