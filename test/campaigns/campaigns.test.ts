import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignRecipients, campaigns } from '../../src/db/schema.js';
import { nextWindowOpening, recipientZone } from '../../src/modules/campaigns/send-window.js';
import { createAgent } from '../helpers/factories.js';
import { startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { customerTexts, setUpInbox, type Inbox } from '../helpers/inbox.js';
import { DateTime } from 'luxon';
import { collect } from '../helpers/live.js';
import { errorCode, startTestServer, type TestServer } from '../helpers/test-server.js';
import { sendInbound, sendStatus } from '../helpers/twilio-setup.js';
import { waitFor } from '../helpers/wait.js';
import { randomUsNumber } from '../inbound/fixtures.js';

let server: TestServer;
let fake: FakeTwilio;

beforeAll(async () => {
  // Without pacing a campaign keeps four times DISPATCHER_CONCURRENCY texts in the outbox at once
  // (16): well under the 60 recipients of the pause test, so the pause, and the cancel after the
  // resume, find some still pending.
  [server, fake] = await Promise.all([startTestServer({ DISPATCHER_CONCURRENCY: '4' }), startFakeTwilio()]);
});
afterAll(async () => {
  await Promise.all([server?.close(), fake?.close()]);
});

const CAMPAIGN_FIELDS = 'id name status body scheduledAt sendWindowStart sendWindowEnd startedAt completedAt phoneNumber { id } stats { recipients queued sent delivered failed skipped replied }';
const CREATE = `mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { ${CAMPAIGN_FIELDS} } }`;
const ACTION = (name: string) => `mutation($id: ID!) { ${name}(id: $id) { ${CAMPAIGN_FIELDS} } }`;
const GET = `query($id: ID!) { campaign(id: $id) { ${CAMPAIGN_FIELDS} } }`;
const RECIPIENTS = `query($id: ID!, $status: CampaignRecipientStatus, $after: String) { campaign(id: $id) { recipients(first: 60, status: $status, after: $after) {
  edges { node { phoneNumber name status reason repliedAt message { id source } } } pageInfo { hasNextPage endCursor } } } }`;

async function create(inbox: Inbox, recipients: Array<{ phoneNumber: string; name?: string }>, extra: Record<string, unknown> = {}) {
  const res = await server.gql(
    CREATE,
    { input: { name: 'Spring sale', phoneNumberId: inbox.number.id, body: 'Hi {{contact.name}}, 20% off this week at {{tenant.name}}!', recipients, ...extra } },
    inbox.tenant.token,
  );
  return res;
}

async function campaign(inbox: Inbox, id: string) {
  const res = await server.gql(GET, { id }, inbox.tenant.token);
  expect(res.errors).toBeUndefined();
  return res.data!.campaign;
}

async function recipientsOf(inbox: Inbox, id: string, status?: string) {
  const res = await server.gql(RECIPIENTS, { id, status }, inbox.tenant.token);
  expect(res.errors).toBeUndefined();
  return res.data!.campaign.recipients.edges.map((e: { node: unknown }) => e.node);
}

describe('creating campaigns', () => {
  it('a DRAFT with numbers in E.164; invalid numbers refused by name with nothing stored; duplicates skipped', async () => {
    const inbox = await setUpInbox(server, fake, { tenantName: 'Bloom Florists' });
    const bad = await create(inbox, [{ phoneNumber: '+1 415 555 0100' }, { phoneNumber: 'not a number' }, { phoneNumber: '12' }]);
    expect(errorCode(bad)).toBe('BAD_USER_INPUT');
    expect(bad.errors![0]!.message).toContain('not a number');
    expect(bad.errors![0]!.message).toContain('12');
    expect(await server.app.deps.db.select().from(campaigns).where(eq(campaigns.tenantId, inbox.tenant.tenantId))).toEqual([]);

    const a = randomUsNumber('212');
    const national = randomUsNumber('646');
    const res = await create(inbox, [
      { phoneNumber: a, name: 'Ann' },
      { phoneNumber: `(${national.slice(2, 5)}) ${national.slice(5, 8)}-${national.slice(8)}` },
      { phoneNumber: a, name: 'Ann again' },
    ]);
    expect(res.errors).toBeUndefined();
    const created = res.data!.createCampaign;
    expect(created).toMatchObject({ status: 'DRAFT', phoneNumber: { id: inbox.number.id }, startedAt: null });
    expect(created.stats).toEqual({ recipients: 3, queued: 2, sent: 0, delivered: 0, failed: 0, skipped: 1, replied: 0 });

    // More in a later call: duplicates of earlier ones are skipped too.
    const more = await server.gql(
      `mutation($id: ID!, $r: [CampaignRecipientInput!]!) { addCampaignRecipients(id: $id, recipients: $r) { stats { recipients skipped } } }`,
      { id: created.id, r: [{ phoneNumber: national }, { phoneNumber: randomUsNumber('917') }] },
      inbox.tenant.token,
    );
    expect(more.data!.addCampaignRecipients.stats).toEqual({ recipients: 5, skipped: 2 });
    const list = await recipientsOf(inbox, created.id);
    expect(list.map((r: { phoneNumber: string; status: string; reason: string | null }) => [r.phoneNumber, r.status, r.reason])).toEqual([
      [a, 'PENDING', null],
      [national, 'PENDING', null],
      [a, 'SKIPPED', 'duplicate'],
      [expect.any(String), 'PENDING', null],
      [national, 'SKIPPED', 'duplicate'],
    ]);
  });

  it('admins only; another tenant sees nothing; over 10,000 a call is refused', async () => {
    const inbox = await setUpInbox(server, fake);
    const agent = await createAgent(server, inbox.tenant.token);
    const asAgent = await server.gql(CREATE, { input: { name: 'x', phoneNumberId: inbox.number.id, body: 'x', recipients: [] } }, agent.token);
    expect(errorCode(asAgent)).toBe('FORBIDDEN');
    const mine = (await create(inbox, [{ phoneNumber: randomUsNumber() }])).data!.createCampaign;
    const other = await setUpInbox(server, fake);
    expect((await server.gql(GET, { id: mine.id }, other.tenant.token)).data!.campaign).toBeNull();
    expect(errorCode(await server.gql(ACTION('startCampaign'), { id: mine.id }, other.tenant.token))).toBe('NOT_FOUND');
    const tooMany = Array.from({ length: 10_001 }, (_, i) => ({ phoneNumber: `+1415555${String(i % 10000).padStart(4, '0')}` }));
    expect(errorCode(await create(inbox, tooMany))).toBe('BAD_USER_INPUT');
  });

  it('status transitions: any other than the contract allows is BAD_USER_INPUT', async () => {
    const inbox = await setUpInbox(server, fake);
    const { id } = (await create(inbox, [{ phoneNumber: randomUsNumber() }])).data!.createCampaign;
    expect(errorCode(await server.gql(ACTION('pauseCampaign'), { id }, inbox.tenant.token))).toBe('BAD_USER_INPUT');
    const at = new Date(Date.now() + 3600_000).toISOString();
    const scheduled = await server.gql(`mutation($id: ID!, $at: DateTimeISO!) { scheduleCampaign(id: $id, at: $at) { status scheduledAt } }`, { id, at }, inbox.tenant.token);
    expect(scheduled.data!.scheduleCampaign).toEqual({ status: 'SCHEDULED', scheduledAt: at });
    const again = await server.gql(`mutation($id: ID!, $at: DateTimeISO!) { scheduleCampaign(id: $id, at: $at) { status } }`, { id, at }, inbox.tenant.token);
    expect(errorCode(again)).toBe('BAD_USER_INPUT');
    expect((await server.gql(ACTION('cancelCampaign'), { id }, inbox.tenant.token)).data!.cancelCampaign.status).toBe('CANCELLED');
    expect(errorCode(await server.gql(ACTION('startCampaign'), { id }, inbox.tenant.token))).toBe('BAD_USER_INPUT');
    expect((await campaign(inbox, id)).stats).toMatchObject({ recipients: 1, skipped: 1, queued: 0 });
  });
});

describe('running a campaign', () => {
  it('one message per recipient, opted-out skipped, statuses and replies counted exactly, campaignUpdated throttled', async () => {
    const inbox = await setUpInbox(server, fake, { tenantName: 'Bloom Florists' });
    const optedOut = randomUsNumber('305');
    // This contact texted STOP earlier.
    await sendInbound(server, inbox.account, { from: optedOut, to: inbox.number.e164, body: 'STOP' });
    const people = Array.from({ length: 6 }, (_, i) => ({ phoneNumber: randomUsNumber('212'), name: `Person ${i}` }));
    const { id } = (await create(inbox, [...people, { phoneNumber: optedOut, name: 'Gone' }, { phoneNumber: people[0]!.phoneNumber }])).data!.createCampaign;

    const ws = server.ws(inbox.tenant.token);
    const updates = collect(ws, `subscription($id: ID) { campaignUpdated(campaignId: $id) { id status stats { sent delivered failed } } }`, { id });
    await waitFor(() => server.app.deps.events.subscriberCount >= 1, { what: 'the subscription' });

    const started = await server.gql(ACTION('startCampaign'), { id }, inbox.tenant.token);
    expect(started.data!.startCampaign.status).toBe('RUNNING');
    const done = await waitFor(async () => {
      const c = await campaign(inbox, id);
      return c.status === 'COMPLETED' ? c : undefined;
    }, { timeoutMs: 20_000, what: 'the campaign to complete' });
    expect(done.stats).toEqual({ recipients: 8, queued: 0, sent: 6, delivered: 0, failed: 0, skipped: 2, replied: 0 });
    expect(done.completedAt).not.toBeNull();

    const posts = fake.messageRequests.filter((r) => people.some((p) => p.phoneNumber === r.params['To']));
    expect(posts).toHaveLength(6);
    expect(new Set(posts.map((p) => p.params['To'])).size).toBe(6);
    expect(posts.find((p) => p.params['To'] === people[1]!.phoneNumber)!.params['Body']).toBe('Hi Person 1, 20% off this week at Bloom Florists!');
    expect(fake.messageRequests.some((r) => r.params['To'] === optedOut)).toBe(false);

    // Progress came as a few events, not one per message, ending with COMPLETED.
    await waitFor(() => updates.events.some((e) => e.status === 'COMPLETED'), { what: 'the COMPLETED event' });
    expect(updates.events.length).toBeLessThan(8);
    expect(updates.events.every((e) => e.id === id)).toBe(true);

    // Delivery reports move the stats: one delivered, one read (delivered), one undelivered (failed).
    const bySid = (to: string) => posts.find((p) => p.params['To'] === to)!;
    for (const [i, status, errorCodeValue] of [[1, 'delivered'], [2, 'read'], [3, 'undelivered', 30003]] as const) {
      const post = bySid(people[i]!.phoneNumber);
      const r = await sendStatus(server, inbox.account, {
        messageSid: post.sid!, status, from: inbox.number.e164, to: people[i]!.phoneNumber, ...(errorCodeValue ? { errorCode: errorCodeValue } : {}),
      });
      expect(r.status).toBe(200);
    }
    // Replies: a keyword does not count, a text does; the thread shows the campaign text first.
    await sendInbound(server, inbox.account, { from: people[4]!.phoneNumber, to: inbox.number.e164, body: 'HELP' });
    await sendInbound(server, inbox.account, { from: people[5]!.phoneNumber, to: inbox.number.e164, body: 'Do you deliver on Sunday?' });
    const after = await campaign(inbox, id);
    expect(after.stats).toEqual({ recipients: 8, queued: 0, sent: 3, delivered: 2, failed: 1, skipped: 2, replied: 1 });

    const list = await recipientsOf(inbox, id);
    const byNumber = new Map(list.map((r: { phoneNumber: string; status: string }) => [r.phoneNumber + r.status, r]));
    expect(byNumber.get(`${optedOut}SKIPPED`)).toMatchObject({ reason: 'opted out', message: null });
    expect(byNumber.get(`${people[3]!.phoneNumber}FAILED`)).toMatchObject({ reason: expect.stringMatching(/\S/) });
    const replied = byNumber.get(`${people[5]!.phoneNumber}SENT`) as { repliedAt: string; message: { id: string; source: string } };
    expect(replied.repliedAt).not.toBeNull();
    expect(replied.message.source).toBe('CAMPAIGN');
    const viaMessage = await server.gql(
      `query($id: ID!) { campaign(id: $id) { recipients(first: 1) { edges { node { message { campaign { id name } } } } } } }`,
      { id },
      inbox.tenant.token,
    );
    expect(viaMessage.data!.campaign.recipients.edges[0].node.message.campaign).toEqual({ id, name: 'Spring sale' });
    expect((await recipientsOf(inbox, id, 'DELIVERED')).map((r: { phoneNumber: string }) => r.phoneNumber).sort()).toEqual(
      [people[1]!.phoneNumber, people[2]!.phoneNumber].sort(),
    );

    const thread = await server.gql(
      `query { conversations(first: 10) { edges { node { status contact { phoneNumber } messages(first: 3) { edges { node { body direction source } } } } } } }`,
      {},
      inbox.tenant.token,
    );
    const conv = thread.data!.conversations.edges.find((e: { node: { contact: { phoneNumber: string } } }) => e.node.contact.phoneNumber === people[5]!.phoneNumber).node;
    expect(conv.status).toBe('OPEN');
    expect(conv.messages.edges.map((e: { node: { body: string; source: string } }) => [e.node.source, e.node.body])).toEqual([
      ['CUSTOMER', 'Do you deliver on Sunday?'],
      ['CAMPAIGN', 'Hi Person 5, 20% off this week at Bloom Florists!'],
    ]);

    // The receipts reached subscribers live too (throttled: the last one is never dropped).
    await waitFor(() => updates.events.some((e) => e.stats.delivered === 2 && e.stats.failed === 1), { what: 'campaignUpdated with the receipts counted' });
    expect(updates.events.every((e) => e.id === id)).toBe(true);
  });

  it("hands a batch over as the rules say: blocked skipped, a live conversation joined, a new one opened PENDING, names kept or given", async () => {
    const inbox = await setUpInbox(server, fake, { tenantName: 'Bloom Florists' });
    const token = inbox.tenant.token;
    const contactOf = async (conversationId: string) =>
      (await server.gql(`query($id: ID!) { conversation(id: $id) { contact { id } } }`, { id: conversationId }, token)).data!.conversation.contact.id as string;
    const updateContact = (id: string, input: Record<string, unknown>) =>
      server.gql(`mutation($id: ID!, $input: UpdateContactInput!) { updateContact(id: $id, input: $input) { id } }`, { id, input }, token);

    const existing = randomUsNumber('212');
    const existingConversation = await customerTexts(server, inbox, existing, 'Are you open today?');
    const blocked = randomUsNumber('213');
    expect((await updateContact(await contactOf(await customerTexts(server, inbox, blocked, 'spam')), { blocked: true })).errors).toBeUndefined();
    const named = randomUsNumber('214');
    expect((await updateContact(await contactOf(await customerTexts(server, inbox, named, 'hello')), { name: 'Olga' })).errors).toBeUndefined();
    const fresh = randomUsNumber('215');

    const { id } = (
      await create(inbox, [
        { phoneNumber: existing, name: 'Ed' },
        { phoneNumber: blocked, name: 'Bo' },
        { phoneNumber: named, name: 'Not Olga' },
        { phoneNumber: fresh, name: 'Nina' },
      ])
    ).data!.createCampaign;
    await server.gql(ACTION('startCampaign'), { id }, token);
    const done = await waitFor(async () => {
      const c = await campaign(inbox, id);
      return c.status === 'COMPLETED' ? c : undefined;
    }, { timeoutMs: 20_000, what: 'the campaign to complete' });
    expect(done.stats).toMatchObject({ recipients: 4, sent: 3, skipped: 1, queued: 0 });
    expect((await recipientsOf(inbox, id, 'SKIPPED')).map((r: { phoneNumber: string; reason: string }) => [r.phoneNumber, r.reason])).toEqual([[blocked, 'blocked']]);
    const bodies = new Map(fake.messageRequests.filter((r) => [existing, blocked, named, fresh].includes(String(r.params['To']))).map((r) => [r.params['To'], r.params['Body']]));
    expect(Object.fromEntries(bodies)).toEqual({
      [existing]: 'Hi Ed, 20% off this week at Bloom Florists!',
      [named]: 'Hi Not Olga, 20% off this week at Bloom Florists!',
      [fresh]: 'Hi Nina, 20% off this week at Bloom Florists!',
    });

    const list = await server.gql(
      `query { conversations(first: 20) { edges { node { id status contact { phoneNumber name } messages(first: 2) { edges { node { source } } } } } } }`,
      {},
      token,
    );
    const byPhone = new Map(
      (list.data!.conversations.edges as Array<{ node: { id: string; status: string; contact: { phoneNumber: string; name: string | null }; messages: { edges: Array<{ node: { source: string } }> } } }>)
        .filter((e) => e.node.contact.phoneNumber !== blocked)
        .map((e) => [e.node.contact.phoneNumber, { id: e.node.id, status: e.node.status, name: e.node.contact.name, sources: e.node.messages.edges.map((m) => m.node.source) }]),
    );
    // The customer's open conversation got the text (no second one); the new recipient's waits for a reply.
    expect(byPhone.get(existing)).toEqual({ id: existingConversation, status: 'OPEN', name: 'Ed', sources: ['CAMPAIGN', 'CUSTOMER'] });
    expect(byPhone.get(named)).toMatchObject({ status: 'OPEN', name: 'Olga', sources: ['CAMPAIGN', 'CUSTOMER'] });
    expect(byPhone.get(fresh)).toMatchObject({ status: 'PENDING', name: 'Nina', sources: ['CAMPAIGN'] });
    const conversationsOf = (phone: string) => list.data!.conversations.edges.filter((e: { node: { contact: { phoneNumber: string } } }) => e.node.contact.phoneNumber === phone);
    expect(conversationsOf(existing)).toHaveLength(1);
    expect(conversationsOf(named)).toHaveLength(1);
  });

  it('skips every recipient, with the reason, when the sending number was removed before the campaign ran; nothing is sent', async () => {
    const inbox = await setUpInbox(server, fake);
    const people = Array.from({ length: 5 }, () => ({ phoneNumber: randomUsNumber('312') }));
    const { id } = (await create(inbox, people)).data!.createCampaign;
    const removed = await server.gql(`mutation($id: ID!) { removePhoneNumber(id: $id) }`, { id: inbox.number.id }, inbox.tenant.token);
    expect(removed.errors).toBeUndefined();
    const started = await server.gql(ACTION('startCampaign'), { id }, inbox.tenant.token);
    expect(started.errors).toBeUndefined();
    const done = await waitFor(async () => {
      const c = await campaign(inbox, id);
      return c.status === 'COMPLETED' && c;
    }, { timeoutMs: 20_000, what: 'the campaign to complete' });
    expect(done.stats).toMatchObject({ recipients: 5, queued: 0, sent: 0, skipped: 5 });
    const rows = await recipientsOf(inbox, id);
    expect(rows.map((r: { status: string; reason: string; message: unknown }) => [r.status, r.reason, r.message])).toEqual(
      people.map(() => ['SKIPPED', 'the sending number was removed', null]),
    );
    expect(fake.messageRequests.some((r) => people.some((p) => p.phoneNumber === r.params['To']))).toBe(false);
  });

  it('pause stops new sends; start resumes; cancel skips the rest', async () => {
    const inbox = await setUpInbox(server, fake);
    // Twilio answers slowly, so the campaign is still running when we pause it.
    fake.onMessage(() => ({ delayMs: 150 }));
    const people = Array.from({ length: 60 }, () => ({ phoneNumber: randomUsNumber('718') }));
    const { id } = (await create(inbox, people)).data!.createCampaign;
    const sentTo = () => fake.messageRequests.filter((r) => people.some((p) => p.phoneNumber === r.params['To'])).length;
    await server.gql(ACTION('startCampaign'), { id }, inbox.tenant.token);
    await waitFor(() => sentTo() >= 5, { timeoutMs: 15_000, what: 'some sends' });
    const paused = await server.gql(ACTION('pauseCampaign'), { id }, inbox.tenant.token);
    expect(paused.data!.pauseCampaign.status).toBe('PAUSED');
    // What was already handed over finishes; then nothing more leaves.
    await waitFor(async () => (await recipientsOf(inbox, id, 'QUEUED')).length === 0, { timeoutMs: 15_000, what: 'in-flight sends to finish' });
    const settled = (await campaign(inbox, id)).stats;
    const atPause = sentTo();
    expect(atPause).toBe(settled.sent);
    expect(atPause).toBeLessThan(60);
    // A marker: an agent's reply on the same number, sent after the pause, reaches Twilio while
    // no campaign text does (the runner polls far more often than this takes).
    const customer = randomUsNumber('202');
    await sendInbound(server, inbox.account, { from: customer, to: inbox.number.e164, body: 'question' });
    const conversations = await server.gql(`query { conversations(first: 5, status: OPEN) { edges { node { id } } } }`, {}, inbox.tenant.token);
    for (let i = 0; i < 3; i++) {
      const marker = `marker ${i}`;
      await server.gql(
        `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`,
        { input: { conversationId: conversations.data!.conversations.edges[0].node.id, body: marker } },
        inbox.tenant.token,
      );
      await waitFor(() => fake.messageRequests.some((r) => r.params['Body'] === marker && r.status === 201), { what: marker });
    }
    expect(sentTo()).toBe(atPause);

    expect((await server.gql(ACTION('startCampaign'), { id }, inbox.tenant.token)).data!.startCampaign.status).toBe('RUNNING');
    await waitFor(() => sentTo() > atPause + 3, { timeoutMs: 15_000, what: 'sends to resume' });
    const cancelled = await server.gql(ACTION('cancelCampaign'), { id }, inbox.tenant.token);
    expect(cancelled.data!.cancelCampaign.status).toBe('CANCELLED');
    const final = await waitFor(async () => {
      const c = await campaign(inbox, id);
      return c.stats.queued === 0 ? c : undefined;
    }, { timeoutMs: 15_000, what: 'the last in-flight sends' });
    fake.onMessage(null);
    expect(final.stats.sent + final.stats.skipped).toBe(60);
    expect(final.stats.skipped).toBeGreaterThan(0);
    expect(sentTo()).toBe(final.stats.sent);
    const skipped = await recipientsOf(inbox, id, 'SKIPPED');
    expect(skipped.every((r: { reason: string }) => r.reason === 'cancelled')).toBe(true);
    const rows = await server.app.deps.db.select().from(campaignRecipients).where(eq(campaignRecipients.campaignId, id));
    expect(rows).toHaveLength(60);
  });

  it('a scheduled campaign starts by itself', async () => {
    const inbox = await setUpInbox(server, fake);
    const to = randomUsNumber('415');
    const { id } = (await create(inbox, [{ phoneNumber: to }])).data!.createCampaign;
    const at = new Date(Date.now() + 1500).toISOString();
    await server.gql(`mutation($id: ID!, $at: DateTimeISO!) { scheduleCampaign(id: $id, at: $at) { id } }`, { id, at }, inbox.tenant.token);
    expect(fake.messageRequests.some((r) => r.params['To'] === to)).toBe(false);
    await waitFor(() => fake.messageRequests.some((r) => r.params['To'] === to), { timeoutMs: 15_000, what: 'the scheduled send' });
    const c = await campaign(inbox, id);
    expect(new Date(c.startedAt).getTime()).toBeGreaterThanOrEqual(new Date(at).getTime() - 1000);
  });
});

describe('send window', () => {
  it("a recipient outside the window waits (not sent) until it opens in the recipient's zone", async () => {
    const inbox = await setUpInbox(server, fake);
    const to = randomUsNumber('212'); // New York
    // A window that opens two hours from now, New York time.
    const ny = DateTime.now().setZone('America/New_York');
    const opens = ny.plus({ hours: 2 });
    const fmt = (d: DateTime) => d.toFormat('HH:mm');
    const { id } = (await create(inbox, [{ phoneNumber: to }], { sendWindowStart: fmt(opens), sendWindowEnd: fmt(opens.plus({ hours: 1 })) })).data!.createCampaign;
    expect((await server.gql(ACTION('startCampaign'), { id }, inbox.tenant.token)).errors).toBeUndefined();
    const [row] = await waitFor(async () => {
      const rows = await server.app.deps.db.select().from(campaignRecipients).where(eq(campaignRecipients.campaignId, id));
      return rows[0]?.notBefore ? rows : undefined;
    }, { what: 'the recipient to be deferred' });
    const expected = opens.set({ second: 0, millisecond: 0 }).toJSDate().getTime();
    expect(Math.abs(row!.notBefore!.getTime() - expected)).toBeLessThan(60_000);
    // A marker on the same number leaves; the campaign text does not.
    const conversationId = await customerTexts(server, inbox, randomUsNumber('646'), 'hello');
    await server.gql(`mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`, { input: { conversationId, body: 'window marker' } }, inbox.tenant.token);
    await waitFor(() => fake.messageRequests.some((r) => r.params['Body'] === 'window marker' && r.status === 201), { what: 'the marker' });
    expect(fake.messageRequests.some((r) => r.params['To'] === to)).toBe(false);
    expect((await campaign(inbox, id)).stats).toMatchObject({ recipients: 1, queued: 1, sent: 0 });
    expect((await campaign(inbox, id)).status).toBe('RUNNING');
  });


  it("reads the recipient's zone from the number and waits for the window to open", () => {
    expect(recipientZone('+12125550123', '+14155550100')).toBe('America/New_York');
    expect(recipientZone('+442071838750', '+14155550100')).toBe('Europe/London');
    // An area code that spans zones (or is not listed): the sending number's.
    expect(recipientZone('+18085550123', '+14155550100')).toBe('America/Los_Angeles');
    const nineAmNy = new Date('2026-06-01T13:00:00Z');
    expect(nextWindowOpening(nineAmNy, 'America/New_York', '08:00', '21:00')).toBeNull();
    expect(nextWindowOpening(nineAmNy, 'America/Los_Angeles', '08:00', '21:00')).toEqual(new Date('2026-06-01T15:00:00Z'));
    const elevenPmNy = new Date('2026-06-02T03:00:00Z');
    expect(nextWindowOpening(elevenPmNy, 'America/New_York', '08:00', '21:00')).toEqual(new Date('2026-06-02T12:00:00Z'));
    expect(nextWindowOpening(elevenPmNy, 'America/New_York', '21:00', '08:00')).toBeNull();
  });
});
