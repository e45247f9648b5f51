import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { randomUsNumber, setUpInbox } from '../helpers/inbox.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The campaign runner keeps only a window of texts in the outbox (four times
 * DISPATCHER_CONCURRENCY without pacing) and refills it when the dispatcher has emptied the queue,
 * not at its next poll: with a full window it once slept the whole poll while the dispatcher sat
 * idle, and campaigns ran at half their pace (bench, twenty-fifth session). Here the poll is the
 * longest the configuration allows (60 s) and the window 4 texts, so a campaign of 13 recipients
 * completes within the test's time only if starting it wakes the runner and every refill (at
 * least three) and the completion follow the dispatcher's signals; resuming a paused campaign
 * wakes the runner too.
 */
describe('a campaign larger than its window', () => {
  let server: TestServer;
  let fake: FakeTwilio;

  beforeAll(async () => {
    [server, fake] = await Promise.all([startTestServer({ DISPATCHER_CONCURRENCY: '1', DISPATCHER_POLL_MS: '60000' }), startFakeTwilio()]);
  });
  afterAll(async () => {
    await Promise.all([server?.close(), fake?.close()]);
  });

  type Inbox = Awaited<ReturnType<typeof setUpInbox>>;
  const STATS = 'stats { recipients queued sent skipped }';

  /** A campaign of `recipients` on the inbox's number, not started; its id and its per-campaign calls. */
  async function createCampaign(inbox: Inbox, name: string, body: string, recipients: Array<{ phoneNumber: string }>) {
    const token = inbox.tenant.token;
    const created = await server.gql(
      `mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }`,
      { input: { name, phoneNumberId: inbox.number.id, body, recipients } },
      token,
    );
    expect(created.errors).toBeUndefined();
    const id = created.data!.createCampaign.id as string;
    const campaign = async () => (await server.gql(`query($id: ID!) { campaign(id: $id) { status ${STATS} } }`, { id }, token)).data!.campaign;
    return {
      id,
      /** startCampaign, pauseCampaign...: the status it answers. */
      action: async (mutation: string) => (await server.gql(`mutation($id: ID!) { ${mutation}(id: $id) { status } }`, { id }, token)).data![mutation].status as string,
      campaign,
      /** Far below the 60 s poll: a single wait for it fails the test. */
      completed: (what: string) => waitFor(async () => {
        const c = await campaign();
        return c.status === 'COMPLETED' && c;
      }, { timeoutMs: 30_000, what }),
    };
  }

  it('is started at once and refilled as the dispatcher empties the queue, not at the 60 s poll', async () => {
    const inbox = await setUpInbox(server, fake);
    const recipients = Array.from({ length: 13 }, () => ({ phoneNumber: randomUsNumber('917') }));
    const run = await createCampaign(inbox, 'Refill', 'Hello {{contact.name}}', recipients);
    expect(await run.action('startCampaign')).toBe('RUNNING');

    const done = await run.completed('the campaign to complete');
    expect(done.stats).toEqual({ recipients: 13, queued: 0, sent: 13, skipped: 0 });
    const posts = fake.messageRequests.filter((r) => recipients.some((p) => p.phoneNumber === r.params['To']));
    expect(new Set(posts.map((p) => p.params['To'])).size).toBe(13);
    expect(posts).toHaveLength(13);
  }, 60_000);

  it('is woken by resuming it after a pause, not at the 60 s poll', async () => {
    const inbox = await setUpInbox(server, fake);
    const token = inbox.tenant.token;
    // Twilio answers slowly, so the campaign is still running when it is paused.
    fake.onMessage(() => ({ delayMs: 100 }));
    try {
      const recipients = Array.from({ length: 13 }, () => ({ phoneNumber: randomUsNumber('646') }));
      const run = await createCampaign(inbox, 'Resume', 'Hello again', recipients);
      const sentTo = () => fake.messageRequests.filter((r) => recipients.some((p) => p.phoneNumber === r.params['To'])).length;
      const handedOver = async () =>
        (await server.gql(`query($id: ID!) { campaign(id: $id) { recipients(first: 1, status: QUEUED) { edges { node { phoneNumber } } } } }`, { id: run.id }, token))
          .data!.campaign.recipients.edges.length as number;

      expect(await run.action('startCampaign')).toBe('RUNNING');
      await waitFor(() => sentTo() >= 2, { timeoutMs: 15_000, what: 'the first sends' });
      expect(await run.action('pauseCampaign')).toBe('PAUSED');
      // What was handed over finishes; the dispatcher's drained signal then finds no running campaign.
      await waitFor(async () => (await handedOver()) === 0, { timeoutMs: 15_000, what: 'in-flight sends to finish' });
      const atPause = sentTo();
      expect(atPause).toBeLessThan(13);
      // A marker sent after the pause leaves: the runner's pass for the last drain is behind us.
      const marker = await server.gql(
        `mutation($input: StartConversationInput!) { startConversation(input: $input) { id } }`,
        { input: { phoneNumberId: inbox.number.id, to: randomUsNumber('212'), body: 'resume marker' } },
        token,
      );
      expect(marker.errors).toBeUndefined();
      await waitFor(() => fake.messageRequests.some((r) => r.params['Body'] === 'resume marker' && r.status === 201), { timeoutMs: 15_000, what: 'the marker' });
      expect(sentTo()).toBe(atPause);

      expect(await run.action('startCampaign')).toBe('RUNNING');
      const done = await run.completed('the resumed campaign to complete');
      expect(done.stats).toEqual({ recipients: 13, queued: 0, sent: 13, skipped: 0 });
      expect(sentTo()).toBe(13);
    } finally {
      fake.onMessage(null);
    }
  }, 60_000);
});
