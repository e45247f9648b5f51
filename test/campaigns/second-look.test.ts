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
 * The campaign runner's second look for a conversation: a customer's text opens a live
 * conversation after the runner looked for one (none) and before its insert of a new PENDING one.
 * The insert meets that conversation at the live-conversation key and does nothing, and the text
 * must land in the customer's conversation, not in a second one. Made deterministic with an open
 * transaction: the test inserts the customer's conversation and holds its commit until the
 * runner's insert waits for it (pg_blocking_pids, the waiting statement checked), then commits.
 *
 * Postgres only: PGlite has one connection, so no statement of another can be waited for.
 */
describe.skipIf(!usingPostgres)("campaign hand-over racing a customer's new conversation (TEST_DATABASE_URL)", () => {
  let server: TestServer;
  let fake: FakeTwilio;
  let sql: postgres.Sql;

  beforeAll(async () => {
    // No dispatcher, so no campaign runner of the server's own: the test drives one pass.
    [server, fake] = await Promise.all([startTestServer({ DISPATCHER_ENABLED: 'false' }), startFakeTwilio()]);
    sql = postgres(server.database.env.DATABASE_URL!, { max: 2, onnotice: () => {} });
  });
  afterAll(async () => {
    await sql?.end();
    await Promise.all([server?.close({ dropDatabase: true }), fake?.close()]);
  });

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
