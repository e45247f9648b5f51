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
 * The completion rule of the campaign runner under the interleaving that once completed a campaign
 * with texts still queued (two instances on one Postgres): this instance reads "nothing in flight",
 * then another instance hands over the last recipient and commits, then this instance finds
 * nothing pending. Made deterministic with a lock: the test's transaction holds the campaign row
 * FOR UPDATE, so the runner's pass stops at its shared lock right after its first look; the test
 * hands the recipient over inside that transaction (what the other instance's commit does) and
 * commits. The campaign must stay RUNNING until that text has left the outbox.
 *
 * Postgres only: PGlite has one connection, so two instances (and this interleaving) cannot exist.
 */
describe.skipIf(!usingPostgres)('campaign completion with another instance handing over (TEST_DATABASE_URL)', () => {
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
});
