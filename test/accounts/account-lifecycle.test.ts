import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { phoneNumbers, twilioAccounts } from '../../src/db/schema.js';
import { rebaseTwilioUri } from '../../src/twilio/client.js';
import { createAgent, signUpTenant } from '../helpers/factories.js';
import { startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { setUpInbox } from '../helpers/inbox.js';
import { errorCode, startTestServer, type TestServer } from '../helpers/test-server.js';
import { ACCOUNT_FIELDS, addNumber, connectAccount, sendInbound, sendStatus, type ConnectedAccount } from '../helpers/twilio-setup.js';
import { waitFor } from '../helpers/wait.js';
import { collectEvents, contactOf, conversationsOf, EMPTY_TWIML, messagesOf, randomUsNumber } from '../inbound/fixtures.js';

let server: TestServer;
let fake: FakeTwilio;

beforeAll(async () => {
  // Many attempts: a test holds a reply in the queue with transient errors while it disconnects.
  [server, fake] = await Promise.all([startTestServer({ DISPATCHER_MAX_ATTEMPTS: '100' }), startFakeTwilio()]);
});
afterAll(async () => {
  await Promise.all([server?.close(), fake?.close()]);
});

const UPDATE = `mutation($id: ID!, $input: UpdateTwilioAccountInput!) { updateTwilioAccount(id: $id, input: $input) { ${ACCOUNT_FIELDS} } }`;
const DISCONNECT = `mutation($id: ID!) { disconnectTwilioAccount(id: $id) }`;
const REMOVE = `mutation($id: ID!) { removePhoneNumber(id: $id) }`;

async function accountRow(id: string) {
  const [row] = await server.app.deps.db.select().from(twilioAccounts).where(eq(twilioAccounts.id, id));
  return row!;
}

function inbound(account: ConnectedAccount, to: string, body: string, signWith?: string) {
  return sendInbound(server, account, { from: randomUsNumber('212'), to, body }, signWith ? { signWith } : {});
}

describe('updateTwilioAccount', () => {
  it('changes only the fields given; null puts a field back to its default', async () => {
    const inbox = await setUpInbox(server, fake, { accountExtra: { friendlyName: 'Main', acceptedMediaTypes: ['image/'] } });
    const before = await accountRow(inbox.account.id);

    const renamed = await server.gql(UPDATE, { id: inbox.account.id, input: { friendlyName: 'Support line' } }, inbox.tenant.token);
    expect(renamed.errors).toBeUndefined();
    expect(renamed.data!.updateTwilioAccount).toMatchObject({
      friendlyName: 'Support line',
      mediaEnabled: true,
      acceptedMediaTypes: ['image/'],
      apiBaseUrl: fake.url,
      inboundWebhookUrl: inbox.account.inboundWebhookUrl,
    });

    const media = await server.gql(UPDATE, { id: inbox.account.id, input: { mediaEnabled: false, acceptedMediaTypes: null } }, inbox.tenant.token);
    expect(media.data!.updateTwilioAccount).toMatchObject({ friendlyName: 'Support line', mediaEnabled: false, acceptedMediaTypes: [] });
    const after = await accountRow(inbox.account.id);
    expect(after.authTokenSealed).toBe(before.authTokenSealed);
    expect(after.webhookKey).toBe(before.webhookKey);

    const bad = await server.gql(UPDATE, { id: inbox.account.id, input: { acceptedMediaTypes: ['not a type'] } }, inbox.tenant.token);
    expect(errorCode(bad)).toBe('BAD_USER_INPUT');
    expect((await accountRow(inbox.account.id)).acceptedMediaTypes).toEqual([]);
  });

  it('is for admins of the tenant only', async () => {
    const inbox = await setUpInbox(server, fake);
    const agent = await createAgent(server, inbox.tenant.token);
    const asAgent = await server.gql(UPDATE, { id: inbox.account.id, input: { friendlyName: 'x' } }, agent.token);
    expect(errorCode(asAgent)).toBe('FORBIDDEN');
    const other = await signUpTenant(server, 'Other');
    const asOther = await server.gql(UPDATE, { id: inbox.account.id, input: { friendlyName: 'x' } }, other.token);
    expect(errorCode(asOther)).toBe('NOT_FOUND');
    const asOtherDisconnect = await server.gql(DISCONNECT, { id: inbox.account.id }, other.token);
    expect(errorCode(asOtherDisconnect)).toBe('NOT_FOUND');
    expect((await accountRow(inbox.account.id)).friendlyName).not.toBe('x');
  });

  it('refuses a token Twilio refuses: TWILIO_AUTH_FAILED and nothing changed', async () => {
    const inbox = await setUpInbox(server, fake);
    const before = await accountRow(inbox.account.id);
    const res = await server.gql(
      UPDATE,
      { id: inbox.account.id, input: { authToken: 'f'.repeat(32), friendlyName: 'Renamed' } },
      inbox.tenant.token,
    );
    expect(errorCode(res)).toBe('TWILIO_AUTH_FAILED');
    const after = await accountRow(inbox.account.id);
    expect(after).toEqual(before);
    // Webhooks still work with the stored token.
    const ok = await inbound(inbox.account, inbox.number.e164, 'still here');
    expect(ok.status).toBe(200);
  });

  it('rotation: old or new signature accepted until the first webhook signed with the new token, then only the new', async () => {
    const inbox = await setUpInbox(server, fake);
    const oldToken = inbox.account.authToken;
    const newToken = fake.createSecondaryToken(inbox.account.accountSid);

    const res = await server.gql(UPDATE, { id: inbox.account.id, input: { authToken: newToken } }, inbox.tenant.token);
    expect(res.errors).toBeUndefined();
    // The new token was proven against the API before it was stored.
    const checks = fake.requests.filter((r) => r.path === `/2010-04-01/Accounts/${inbox.account.accountSid}.json`);
    expect(checks.at(-1)!.status).toBe(200);
    expect((await accountRow(inbox.account.id)).previousAuthTokenSealed).not.toBeNull();

    // Twilio has not promoted the new token yet: webhooks still come signed with the old one.
    expect((await inbound(inbox.account, inbox.number.e164, 'signed old 1', oldToken)).status).toBe(200);
    expect((await inbound(inbox.account, inbox.number.e164, 'signed old 2', oldToken)).status).toBe(200);
    // A token that is neither is refused.
    expect((await inbound(inbox.account, inbox.number.e164, 'forged', 'e'.repeat(32))).status).toBe(403);

    fake.promoteSecondaryToken(inbox.account.accountSid);
    expect((await inbound(inbox.account, inbox.number.e164, 'signed new', newToken)).status).toBe(200);
    expect((await accountRow(inbox.account.id)).previousAuthTokenSealed).toBeNull();
    // From now on the old token is refused, on both URLs.
    expect((await inbound(inbox.account, inbox.number.e164, 'signed old 3', oldToken)).status).toBe(403);
    const status = await sendStatus(
      server,
      inbox.account,
      { messageSid: `SM${'0'.repeat(32)}`, status: 'delivered', from: inbox.number.e164, to: randomUsNumber() },
      { signWith: oldToken },
    );
    expect(status.status).toBe(403);

    const bodies = (await messagesOf(server, inbox.tenant.tenantId)).map((m) => m.body);
    expect(bodies).toEqual(['signed old 1', 'signed old 2', 'signed new']);
  });

  it('rotation grace is capped by TWILIO_TOKEN_ROTATION_GRACE_SECONDS', async () => {
    const short = await startTestServer({ TWILIO_TOKEN_ROTATION_GRACE_SECONDS: '1' });
    try {
      const inbox = await setUpInbox(short, fake);
      const oldToken = inbox.account.authToken;
      const newToken = fake.createSecondaryToken(inbox.account.accountSid);
      const res = await short.gql(UPDATE, { id: inbox.account.id, input: { authToken: newToken } }, inbox.tenant.token);
      expect(res.errors).toBeUndefined();
      const send = (body: string, token: string) =>
        sendInbound(short, inbox.account, { from: randomUsNumber('212'), to: inbox.number.e164, body }, { signWith: token });
      expect((await send('within grace', oldToken)).status).toBe(200);
      // Past the grace period the old token is refused even though no webhook came with the new one.
      await waitFor(async () => (await send('after grace', oldToken)).status === 403, { timeoutMs: 10_000, intervalMs: 250, what: 'the grace period to end' });
      expect((await send('new token', newToken)).status).toBe(200);
    } finally {
      await short.close();
    }
  });
});

describe('disconnectTwilioAccount', () => {
  it('404 on both URLs, numbers removed and cleared at Twilio, queued replies failed, history readable', async () => {
    const tenant = await signUpTenant(server);
    const creds = fake.addAccount();
    const account = await connectAccount(server, tenant.token, fake.url, creds);
    const e164 = randomUsNumber();
    fake.addIncomingNumber(creds.sid, { phoneNumber: e164 });
    const number = await addNumber(server, tenant.token, account.id, e164, { configureTwilioWebhook: true });
    expect(fake.numbers(creds.sid)[0]!.smsUrl).toBe(account.inboundWebhookUrl);

    const customer = randomUsNumber('646');
    expect((await sendInbound(server, account, { from: customer, to: e164, body: 'hello before' })).status).toBe(200);
    const [conversation] = await conversationsOf(server, tenant.tenantId);

    // A reply that Twilio keeps answering 503 stays queued (retried) while we disconnect.
    let twilioDown = true;
    fake.onMessage(() => (twilioDown ? { error: { status: 503 } } : undefined));
    const reply = await server.gql(
      `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id status } }`,
      { input: { conversationId: conversation!.id, body: 'reply in the queue' } },
      tenant.token,
    );
    expect(reply.errors).toBeUndefined();
    const replyId = reply.data!.sendMessage.id as string;
    await waitFor(() => fake.messageRequests.some((r) => r.params['Body'] === 'reply in the queue'), { what: 'a first send attempt' });

    const res = await server.gql(DISCONNECT, { id: account.id }, tenant.token);
    expect(res.errors).toBeUndefined();
    expect(res.data!.disconnectTwilioAccount).toBe(true);

    // Both URLs answer 404, whatever the signature.
    expect((await sendInbound(server, account, { from: customer, to: e164, body: 'after' })).status).toBe(404);
    expect((await sendStatus(server, account, { messageSid: `SM${'1'.repeat(32)}`, status: 'delivered', from: e164, to: customer })).status).toBe(404);
    // The SmsUrl we set is cleared at Twilio.
    expect(fake.numbers(creds.sid)[0]!.smsUrl).toBe('');

    // The queued reply fails with a clear error and never reaches Twilio.
    const failed = await waitFor(
      async () => (await messagesOf(server, tenant.tenantId)).find((m) => m.id === replyId && m.status === 'FAILED'),
      { timeoutMs: 10_000, what: 'the queued reply to fail' },
    );
    expect(failed.errorMessage).toMatch(/Twilio account was disconnected/);
    // (Twilio stayed down until then: an attempt already past its checks when we disconnected
    // may still reach Twilio, as any in-flight send finishes.)
    twilioDown = false;
    expect(fake.messageRequests.filter((r) => r.params['Body'] === 'reply in the queue').every((r) => r.status === 503)).toBe(true);
    fake.onMessage(null);

    const lists = await server.gql(`{ twilioAccounts { id } phoneNumbers { id } }`, {}, tenant.token);
    expect(lists.data).toEqual({ twilioAccounts: [], phoneNumbers: [] });
    const [row] = await server.app.deps.db.select().from(phoneNumbers).where(eq(phoneNumbers.id, number.id));
    expect(row!.removedAt).not.toBeNull();

    // History stays readable, down to the number's account.
    const history = await server.gql(
      `query($id: ID!) { conversation(id: $id) { phoneNumber { e164 twilioAccount { id accountSid } } messages(first: 10) { edges { node { body status errorMessage } } } } }`,
      { id: conversation!.id },
      tenant.token,
    );
    expect(history.errors).toBeUndefined();
    expect(history.data!.conversation.phoneNumber).toEqual({ e164, twilioAccount: { id: account.id, accountSid: creds.sid } });
    expect(history.data!.conversation.messages.edges.map((e: { node: { body: string } }) => e.node.body)).toEqual(['reply in the queue', 'hello before']);

    // Nothing more can be done with it: no number added, no text sent.
    const add = await server.gql(
      `mutation($input: AddPhoneNumberInput!) { addPhoneNumber(input: $input) { id } }`,
      { input: { twilioAccountId: account.id, phoneNumber: randomUsNumber() } },
      tenant.token,
    );
    expect(errorCode(add)).toBe('NOT_FOUND');
    const send = await server.gql(
      `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`,
      { input: { conversationId: conversation!.id, body: 'no' } },
      tenant.token,
    );
    expect(errorCode(send)).toBe('BAD_USER_INPUT');
    expect(errorCode(await server.gql(DISCONNECT, { id: account.id }, tenant.token))).toBe('NOT_FOUND');

    // Connecting the SID again gives fresh URLs; the old ones stay dead.
    const again = await connectAccount(server, tenant.token, fake.url, creds);
    expect(again.id).toBe(account.id);
    expect(again.inboundWebhookUrl).not.toBe(account.inboundWebhookUrl);
    expect((await sendInbound(server, account, { from: customer, to: e164, body: 'old url' })).status).toBe(404);
  });
});

describe('removePhoneNumber at Twilio', () => {
  it('clears the SmsUrl we set, and leaves alone one the admin changed since or one we never set', async () => {
    const tenant = await signUpTenant(server);
    const creds = fake.addAccount();
    const account = await connectAccount(server, tenant.token, fake.url, creds);
    const [ours, changed, manual] = [randomUsNumber(), randomUsNumber(), randomUsNumber()];
    const changedSid = fake.addIncomingNumber(creds.sid, { phoneNumber: changed }).sid;
    fake.addIncomingNumber(creds.sid, { phoneNumber: ours });
    fake.addIncomingNumber(creds.sid, { phoneNumber: manual, smsUrl: 'https://elsewhere.example.com/sms' });
    const oursNumber = await addNumber(server, tenant.token, account.id, ours, { configureTwilioWebhook: true });
    const changedNumber = await addNumber(server, tenant.token, account.id, changed, { configureTwilioWebhook: true });
    const manualNumber = await addNumber(server, tenant.token, account.id, manual);
    // The admin points one number elsewhere in the Twilio console.
    const api = server.app.deps.twilio({ accountSid: creds.sid, authToken: creds.authToken, apiBaseUrl: fake.url });
    await api.updateIncomingNumber(changedSid, { smsUrl: 'https://new-home.example.com/sms' });

    for (const id of [oursNumber.id, changedNumber.id, manualNumber.id]) {
      const res = await server.gql(REMOVE, { id }, tenant.token);
      expect(res.errors).toBeUndefined();
    }
    const byNumber = new Map(fake.numbers(creds.sid).map((n) => [n.phoneNumber, n.smsUrl]));
    expect(byNumber.get(ours)).toBe('');
    expect(byNumber.get(changed)).toBe('https://new-home.example.com/sms');
    expect(byNumber.get(manual)).toBe('https://elsewhere.example.com/sms');
  });

  it('a transient Twilio failure changes nothing: the number stays and can be removed later', async () => {
    const tenant = await signUpTenant(server);
    const creds = fake.addAccount();
    const account = await connectAccount(server, tenant.token, fake.url, creds);
    const e164 = randomUsNumber();
    fake.addIncomingNumber(creds.sid, { phoneNumber: e164 });
    const number = await addNumber(server, tenant.token, account.id, e164, { configureTwilioWebhook: true });
    fake.failNextRequests(1, { status: 503 });
    const res = await server.gql(REMOVE, { id: number.id }, tenant.token);
    expect(errorCode(res)).toBe('SERVICE_UNAVAILABLE');
    expect((await server.gql(`{ phoneNumbers { id } }`, {}, tenant.token)).data!.phoneNumbers).toEqual([{ id: number.id }]);
    expect((await server.gql(REMOVE, { id: number.id }, tenant.token)).data!.removePhoneNumber).toBe(true);
    expect(fake.numbers(creds.sid)[0]!.smsUrl).toBe('');
  });
});

describe('inbound on an OUTBOUND-only number', () => {
  it('keeps texts in a RESOLVED conversation raising nothing, and honours STOP and START', async () => {
    const inbox = await setUpInbox(server, fake);
    const outboundOnly = await addNumber(server, inbox.tenant.token, inbox.account.id, randomUsNumber(), { direction: 'OUTBOUND' });
    const customer = randomUsNumber('917');
    const live = collectEvents(server, inbox.tenant.tenantId, ['messageAdded', 'conversationUpdated']);

    const texts = ['Who is this?', 'STOP', 'HELP', 'START'];
    for (const body of texts) {
      const res = await sendInbound(server, inbox.account, { from: customer, to: outboundOnly.e164, body });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(EMPTY_TWIML);
      if (body === 'STOP') expect((await contactOf(server, inbox.tenant.tenantId, customer))!.optedOut).toBe(true);
    }
    expect((await contactOf(server, inbox.tenant.tenantId, customer))!.optedOut).toBe(false);

    // A marker through the inbound number: once its event is in, any event of the above would be too.
    const marker = await sendInbound(server, inbox.account, { from: customer, to: inbox.number.e164, body: 'marker' });
    expect(marker.status).toBe(200);
    await waitFor(() => live.events.some((e) => e.type === 'messageAdded'), { what: 'the marker event' });
    await live.stop();

    const conversations = await conversationsOf(server, inbox.tenant.tenantId);
    const quiet = conversations.filter((c) => c.phoneNumberId === outboundOnly.id);
    expect(quiet).toHaveLength(1);
    expect(quiet[0]).toMatchObject({ status: 'RESOLVED', unreadCount: 0 });
    expect(live.events.every((e) => e.conversationId !== quiet[0]!.id && e.id !== quiet[0]!.id)).toBe(true);
    const stored = (await messagesOf(server, inbox.tenant.tenantId)).filter((m) => m.conversationId === quiet[0]!.id);
    expect(stored.map((m) => m.body)).toEqual(texts);

    // The default inbox list (open conversations) does not show it.
    const open = await server.gql(`{ conversations(first: 50, status: OPEN) { edges { node { id } } } }`, {}, inbox.tenant.token);
    expect(open.data!.conversations.edges.map((e: { node: { id: string } }) => e.node.id)).not.toContain(quiet[0]!.id);
  });
});

describe('API root per host', () => {
  it('keeps each product host on the default root (minus region/edge) and maps every host onto an overridden one', () => {
    const messaging = 'https://messaging.twilio.com/v1/Services/MG123?PageSize=50';
    const regional = 'https://api.sydney.au1.twilio.com/2010-04-01/Accounts/AC1.json';
    expect(rebaseTwilioUri(messaging, null)).toBe(messaging);
    expect(rebaseTwilioUri(regional, null)).toBe('https://api.twilio.com/2010-04-01/Accounts/AC1.json');
    const root = new URL('http://127.0.0.1:9999');
    expect(rebaseTwilioUri(messaging, root)).toBe('http://127.0.0.1:9999/v1/Services/MG123?PageSize=50');
    expect(rebaseTwilioUri(regional, root)).toBe('http://127.0.0.1:9999/2010-04-01/Accounts/AC1.json');
  });
});
