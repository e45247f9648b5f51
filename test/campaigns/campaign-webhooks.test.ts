import { and, eq } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookDeliveries } from '../../src/db/schema.js';
import { startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { setUpInbox, type Inbox } from '../helpers/inbox.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { sendInbound } from '../helpers/twilio-setup.js';
import { waitFor } from '../helpers/wait.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { randomUsNumber } from '../inbound/fixtures.js';

let server: TestServer;
let fake: FakeTwilio;
const receivers: WebhookReceiver[] = [];

beforeAll(async () => {
  [server, fake] = await Promise.all([
    startTestServer({ WEBHOOK_ENDPOINTS_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_MS: '50', WEBHOOK_BACKOFF_BASE_MS: '30', WEBHOOK_BACKOFF_MAX_MS: '100' }),
    startFakeTwilio(),
  ]);
}, 180_000);
afterAll(async () => {
  await Promise.all([server?.close(), fake?.close(), ...receivers.map((r) => r.close())]);
});

async function endpoint(inbox: Inbox, events: string[]) {
  const r = await startWebhookReceiver();
  receivers.push(r);
  const res = await server.gql(
    `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { signingSecret endpoint { id } } }`,
    { input: { url: r.url, events } },
    inbox.tenant.token,
  );
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return { receiver: r, secret: res.data!.createWebhookEndpoint.signingSecret as string, id: res.data!.createWebhookEndpoint.endpoint.id as string };
}

describe('CAMPAIGN_COMPLETED', () => {
  it('reaches the tenant\'s receiver once when the campaign completes, signed, with exact stats; retried after a 500 with the same webhook-id', async () => {
    const inbox = await setUpInbox(server, fake, { tenantName: 'Hook Florists' });
    const other = await setUpInbox(server, fake, { tenantName: 'Quiet Co' });
    const mine = await endpoint(inbox, ['CAMPAIGN_COMPLETED']);
    const theirs = await endpoint(other, ['CAMPAIGN_COMPLETED']);
    // The first attempt fails: the delivery is durable and retried.
    mine.receiver.answer((_req, index) => (index === 0 ? 500 : 200));

    const optedOut = randomUsNumber('305');
    await sendInbound(server, inbox.account, { from: optedOut, to: inbox.number.e164, body: 'STOP' });
    const people = [randomUsNumber('212'), randomUsNumber('646')];
    const created = await server.gql(
      `mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }`,
      {
        input: {
          name: 'Hook sale',
          phoneNumberId: inbox.number.id,
          body: 'Hi {{contact.name}}!',
          recipients: [...people.map((phoneNumber) => ({ phoneNumber })), { phoneNumber: optedOut }],
        },
      },
      inbox.tenant.token,
    );
    if (created.errors) throw new Error(JSON.stringify(created.errors));
    const id = created.data!.createCampaign.id as string;
    // Nothing is announced before completion.
    expect(await server.app.deps.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, mine.id))).toEqual([]);
    expect((await server.gql(`mutation($id: ID!) { startCampaign(id: $id) { status } }`, { id }, inbox.tenant.token)).errors).toBeUndefined();

    const delivered = await waitFor(
      () => mine.receiver.received.find((r) => r.json.type === 'CAMPAIGN_COMPLETED' && r.status === 200),
      { timeoutMs: 30_000, what: 'CAMPAIGN_COMPLETED delivered' },
    );
    const attempts = mine.receiver.received.filter((r) => r.json.type === 'CAMPAIGN_COMPLETED');
    expect(attempts.map((r) => r.status)).toEqual([500, 200]);
    expect(new Set(attempts.map((r) => r.headers['webhook-id'])).size).toBe(1);
    expect(() => new Webhook(mine.secret).verify(delivered.body, delivered.headers as Record<string, string>)).not.toThrow();

    const campaign = (await server.gql(`query($id: ID!) { campaign(id: $id) { status completedAt stats { recipients queued sent delivered failed skipped replied } } }`, { id }, inbox.tenant.token)).data!.campaign;
    expect(campaign.status).toBe('COMPLETED');
    const data = delivered.json.data;
    expect(data).toMatchObject({ id, name: 'Hook sale', status: 'COMPLETED', phoneNumberId: inbox.number.id });
    expect(new Date(data.completedAt).getTime()).toBe(new Date(campaign.completedAt).getTime());
    // Exact at completion: two texts handed to Twilio (sent or already delivered), the opted-out one skipped.
    expect(data.stats).toMatchObject({ recipients: 3, queued: 0, failed: 0, skipped: 1, replied: 0 });
    expect(data.stats.sent + data.stats.delivered).toBe(2);
    expect(JSON.stringify(data)).not.toMatch(/token|secret/i);

    // Exactly one delivery was queued (in the completing transaction), none for another tenant.
    const rows = await server.app.deps.db
      .select()
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.endpointId, mine.id), eq(webhookDeliveries.eventType, 'CAMPAIGN_COMPLETED')));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'DELIVERED', attempts: 2, webhookId: delivered.headers['webhook-id'] });
    expect(await server.app.deps.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, theirs.id))).toEqual([]);
    expect(theirs.receiver.received).toEqual([]);
  }, 120_000);
});
