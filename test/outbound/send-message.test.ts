import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { outbox } from '../../src/modules/outbox/outbox.schema.js';
import { createAgent } from '../helpers/factories.js';
import { startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { customerTexts, randomUsNumber, setUpInbox, type Inbox } from '../helpers/inbox.js';
import { errorCode, startTestServer, type TestServer } from '../helpers/test-server.js';
import { addNumber } from '../helpers/twilio-setup.js';
import { waitFor } from '../helpers/wait.js';

let server: TestServer;
let fake: FakeTwilio;
let a: Inbox;
let b: Inbox;
let agent: { id: string; token: string };

beforeAll(async () => {
  fake = await startFakeTwilio();
  server = await startTestServer();
  [a, b] = await Promise.all([setUpInbox(server, fake), setUpInbox(server, fake, { tenantName: 'Other Co' })]);
  agent = await createAgent(server, a.tenant.token);
});
afterAll(async () => {
  await server?.close();
  await fake?.close();
});
afterEach(() => fake.reset());

const MESSAGE_FIELDS = 'id conversationId direction body status twilioSid errorCode errorMessage segments author { id } createdAt';
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { ${MESSAGE_FIELDS} } }`;

interface Msg {
  id: string;
  conversationId: string;
  direction: string;
  body: string;
  status: string;
  twilioSid: string | null;
  errorCode: number | null;
  errorMessage: string | null;
  segments: number;
  author: { id: string } | null;
}

async function send(input: Record<string, unknown>, token = agent.token) {
  return server.gql<{ sendMessage: Msg }>(SEND, { input }, token);
}

async function messagesOf(conversationId: string, token = a.tenant.token): Promise<Msg[]> {
  const res = await server.gql(
    `query($id: ID!) { conversation(id: $id) { messages(first: 50) { edges { node { ${MESSAGE_FIELDS} } } } } }`,
    { id: conversationId },
    token,
  );
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data!.conversation.messages.edges.map((e: { node: Msg }) => e.node);
}

async function settled(conversationId: string, messageId: string, statuses = ['SENT', 'FAILED']): Promise<Msg> {
  return waitFor(
    async () => {
      const m = (await messagesOf(conversationId)).find((x) => x.id === messageId);
      return m && statuses.includes(m.status) ? m : undefined;
    },
    { what: `message ${messageId} to reach ${statuses.join('/')}` },
  );
}

const postsFor = (body: string) => fake.messageRequests.filter((r) => r.params['Body'] === body);

/**
 * The positive event before a "nothing (more) sent" check: a marker message sent after the action
 * under test has reached Twilio, and tenant A's outbox is empty (jobs stay there until sent or
 * given up, claimed ones included), so nothing of the action can still go out.
 */
async function dispatcherDrained(): Promise<void> {
  const { id: conversationId } = await newConversation();
  const marker = `marker ${randomUUID()}`;
  const res = await send({ conversationId, body: marker });
  expect(res.errors).toBeUndefined();
  await waitFor(() => postsFor(marker).length === 1, { what: 'the marker message to reach Twilio', timeoutMs: 20_000 });
  await waitFor(async () => (await server.app.deps.db.select().from(outbox).where(eq(outbox.tenantId, a.tenant.tenantId))).length === 0, {
    what: "tenant A's outbox to be empty",
    timeoutMs: 20_000,
  });
}

/** A fresh customer with a conversation on tenant A's number. */
async function newConversation(): Promise<{ id: string; customer: string }> {
  const customer = randomUsNumber('650');
  return { id: await customerTexts(server, a, customer, 'Hello there'), customer };
}

describe('sendMessage', () => {
  it('queues the reply, answers at once, and sends exactly one Messages POST with To/From/Body/StatusCallback', async () => {
    const { id: conversationId, customer } = await newConversation();
    const res = await send({ conversationId, body: 'Yes, tomorrow at 10.' });
    expect(res.errors).toBeUndefined();
    const msg = res.data!.sendMessage;
    expect(msg).toMatchObject({
      conversationId,
      direction: 'OUTBOUND',
      body: 'Yes, tomorrow at 10.',
      status: 'QUEUED',
      twilioSid: null,
      segments: 1,
      author: { id: agent.id },
    });

    const sent = await settled(conversationId, msg.id);
    expect(sent.status).toBe('SENT');
    const posts = postsFor('Yes, tomorrow at 10.');
    expect(posts).toHaveLength(1);
    const post = posts[0]!;
    expect(post.accountSid).toBe(a.account.accountSid);
    expect(post.params).toMatchObject({
      To: customer,
      From: a.number.e164,
      Body: 'Yes, tomorrow at 10.',
      StatusCallback: `${a.account.statusCallbackUrl}?messageId=${msg.id}`,
    });
    expect(post.params['MessagingServiceSid']).toBeUndefined();
    expect(sent.twilioSid).toBe(post.sid);

    // The conversation's activity moved to the reply.
    const conv = await server.gql(`query($id: ID!) { conversation(id: $id) { lastMessage { id } } }`, { id: conversationId }, agent.token);
    expect(conv.data!.conversation.lastMessage.id).toBe(msg.id);
    await dispatcherDrained();
    expect(postsFor('Yes, tomorrow at 10.')).toHaveLength(1);
  });

  it('retries 5xx with backoff: 500 twice then 201 → SENT after 3 POSTs, never a 4th', async () => {
    const { id: conversationId } = await newConversation();
    const lookups = () => fake.requests.filter((r) => r.method === 'GET' && r.path.includes('/Messages.json')).length;
    const lookupsBefore = lookups();
    fake.failNextMessages(2, { status: 500 });
    const res = await send({ conversationId, body: 'retry me' });
    const sent = await settled(conversationId, res.data!.sendMessage.id);
    expect(sent).toMatchObject({ status: 'SENT', errorCode: null });
    expect(postsFor('retry me').map((p) => p.status)).toEqual([500, 500, 201]);
    await dispatcherDrained();
    expect(postsFor('retry me')).toHaveLength(3);
    // Twilio answered each failed POST: nothing of them is at Twilio, so no retry looked first.
    expect(lookups()).toBe(lookupsBefore);
  });

  it('gives up after DISPATCHER_MAX_ATTEMPTS transient failures', async () => {
    const { id: conversationId } = await newConversation();
    fake.onMessage(({ params }) => (params['Body'] === 'never gets through' ? { error: { status: 503 } } : {}));
    const res = await send({ conversationId, body: 'never gets through' });
    const failed = await settled(conversationId, res.data!.sendMessage.id);
    expect(failed).toMatchObject({ status: 'FAILED', errorCode: 20503 });
    expect(failed.errorMessage).toMatch(/unavailable/i);
    expect(postsFor('never gets through')).toHaveLength(server.app.deps.config.dispatcher.maxAttempts);
  });

  it('fails at once on a permanent Twilio error (21211) with its code and a readable message', async () => {
    const { id: conversationId } = await newConversation();
    fake.failNextMessages(1, { status: 400, code: 21211 });
    const res = await send({ conversationId, body: 'bad number' });
    const failed = await settled(conversationId, res.data!.sendMessage.id);
    expect(failed).toMatchObject({ status: 'FAILED', errorCode: 21211, errorMessage: "The 'To' phone number is not valid", twilioSid: null });
    await dispatcherDrained();
    expect(postsFor('bad number')).toHaveLength(1);
  });

  it('treats 21610 as an opt-out: FAILED, contact opted out, next send refused', async () => {
    const { id: conversationId } = await newConversation();
    fake.failNextMessages(1, { status: 400, code: 21610 });
    const res = await send({ conversationId, body: 'you opted out' });
    const failed = await settled(conversationId, res.data!.sendMessage.id);
    expect(failed).toMatchObject({ status: 'FAILED', errorCode: 21610 });
    const contact = await server.gql(`query($id: ID!) { conversation(id: $id) { contact { optedOut } } }`, { id: conversationId }, agent.token);
    expect(contact.data!.conversation.contact.optedOut).toBe(true);
    const again = await send({ conversationId, body: 'still there?' });
    expect(errorCode(again)).toBe('CONTACT_OPTED_OUT');
  });

  it('refuses an opted-out contact (texted STOP) with CONTACT_OPTED_OUT and queues nothing', async () => {
    const customer = randomUsNumber('650');
    const conversationId = await customerTexts(server, a, customer, 'Hi');
    await customerTexts(server, a, customer, 'STOP');
    const before = await messagesOf(conversationId);
    const res = await send({ conversationId, body: 'please come back', idempotencyKey: 'opted-out-1' });
    expect(errorCode(res)).toBe('CONTACT_OPTED_OUT');
    expect(await messagesOf(conversationId)).toHaveLength(before.length);
    await dispatcherDrained();
    expect(postsFor('please come back')).toHaveLength(0);
    // START lifts it.
    await customerTexts(server, a, customer, 'START');
    const ok = await send({ conversationId, body: 'welcome back' });
    expect(ok.errors).toBeUndefined();
  });

  it('returns the first message for a repeated idempotencyKey, sequential or concurrent, and sends once', async () => {
    const { id: conversationId } = await newConversation();
    const first = await send({ conversationId, body: 'only once', idempotencyKey: 'key-seq' });
    const second = await send({ conversationId, body: 'only once', idempotencyKey: 'key-seq' });
    expect(second.data!.sendMessage.id).toBe(first.data!.sendMessage.id);

    const racing = await Promise.all(
      Array.from({ length: 8 }, () => send({ conversationId, body: 'racing once', idempotencyKey: 'key-race' })),
    );
    expect(racing.map((r) => r.errors)).toEqual(racing.map(() => undefined));
    expect(new Set(racing.map((r) => r.data!.sendMessage.id)).size).toBe(1);

    await settled(conversationId, first.data!.sendMessage.id);
    await settled(conversationId, racing[0]!.data!.sendMessage.id);
    await dispatcherDrained();
    expect(postsFor('only once')).toHaveLength(1);
    expect(postsFor('racing once')).toHaveLength(1);
    const bodies = (await messagesOf(conversationId)).map((m) => m.body);
    expect(bodies.filter((x) => x === 'only once')).toHaveLength(1);
    expect(bodies.filter((x) => x === 'racing once')).toHaveLength(1);

    // Keys are per tenant: tenant B may use the same key for its own message.
    const bConversation = await customerTexts(server, b, randomUsNumber('650'), 'Hi B');
    const bSend = await send({ conversationId: bConversation, body: 'tenant b', idempotencyKey: 'key-seq' }, b.tenant.token);
    expect(bSend.errors).toBeUndefined();
    expect(bSend.data!.sendMessage.id).not.toBe(first.data!.sendMessage.id);
  });

  it('validates body, media and the conversation, and queues nothing on bad input', async () => {
    const { id: conversationId } = await newConversation();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ body: '' }, 'BAD_USER_INPUT'],
      [{ body: '   ' }, 'BAD_USER_INPUT'],
      [{ body: 'x'.repeat(1601) }, 'BAD_USER_INPUT'],
      [{ body: 'media', mediaUrls: Array.from({ length: 11 }, (_, i) => `https://example.com/${i}.png`) }, 'BAD_USER_INPUT'],
      [{ body: 'media', mediaUrls: ['http://example.com/a.png'] }, 'BAD_USER_INPUT'],
      [{ body: 'media', mediaUrls: ['not a url'] }, 'BAD_USER_INPUT'],
      [{ body: 'media', idempotencyKey: '' }, 'BAD_USER_INPUT'],
    ];
    for (const [input, code] of cases) {
      const res = await send({ conversationId, ...input });
      expect(errorCode(res), JSON.stringify(input).slice(0, 80)).toBe(code);
    }
    expect((await messagesOf(conversationId)).filter((m) => m.direction === 'OUTBOUND')).toEqual([]);

    // Another tenant's conversation, or a made-up id: NOT_FOUND.
    for (const id of ['00000000-0000-4000-8000-000000000000', 'nope']) {
      expect(errorCode(await send({ conversationId: id, body: 'hi' }))).toBe('NOT_FOUND');
    }
    expect(errorCode(await send({ conversationId, body: 'hi' }, b.tenant.token))).toBe('NOT_FOUND');

    // 1,600 characters exactly is fine, and counts its segments (UCS-2 when an emoji is in).
    const long = await send({ conversationId, body: 'y'.repeat(1600) });
    expect(long.data!.sendMessage.segments).toBe(11);
    const emoji = await send({ conversationId, body: 'Thanks 🙂' });
    expect(emoji.data!.sendMessage.segments).toBe(1);
    const ucs2 = await send({ conversationId, body: '🙂'.repeat(40) });
    expect(ucs2.data!.sendMessage.segments).toBe(2);
  });

  it('sends media URLs and goes through the Messaging Service when the number has one', async () => {
    const serviceSid = 'MG' + '0123456789abcdef'.repeat(2);
    const number = await addNumber(server, a.tenant.token, a.account.id, randomUsNumber(), { messagingServiceSid: serviceSid });
    const customer = randomUsNumber('650');
    const started = await server.gql(
      `mutation($input: StartConversationInput!) { startConversation(input: $input) { id } }`,
      { input: { phoneNumberId: number.id, to: customer, body: 'Opening line' } },
      agent.token,
    );
    expect(started.errors).toBeUndefined();
    const conversationId = started.data!.startConversation.id as string;
    const media = ['https://example.com/a.png', 'https://cdn.example.com/b.pdf'];
    const res = await send({ conversationId, body: 'With pictures', mediaUrls: media });
    await settled(conversationId, res.data!.sendMessage.id);
    const [post] = postsFor('With pictures');
    expect(post!.params['MessagingServiceSid']).toBe(serviceSid);
    // Both: the service, and the conversation's own number as the sender (issue 13).
    expect(post!.params['From']).toBe(number.e164);
    expect(post!.params['To']).toBe(customer);
    expect(post!.params['MediaUrl']).toEqual(media);
  });

  it('refuses to send from a removed number', async () => {
    const number = await addNumber(server, a.tenant.token, a.account.id, randomUsNumber());
    const started = await server.gql(
      `mutation($input: StartConversationInput!) { startConversation(input: $input) { id } }`,
      { input: { phoneNumberId: number.id, to: randomUsNumber('650'), body: 'first' } },
      agent.token,
    );
    const conversationId = started.data!.startConversation.id as string;
    const removed = await server.gql(`mutation($id: ID!) { removePhoneNumber(id: $id) }`, { id: number.id }, a.tenant.token);
    expect(removed.errors).toBeUndefined();
    expect(errorCode(await send({ conversationId, body: 'after removal' }))).toBe('BAD_USER_INPUT');
    const again = await server.gql(
      `mutation($input: StartConversationInput!) { startConversation(input: $input) { id } }`,
      { input: { phoneNumberId: number.id, to: randomUsNumber('650'), body: 'x' } },
      agent.token,
    );
    expect(errorCode(again)).toBe('BAD_USER_INPUT');
  });
});

describe('startConversation', () => {
  const START = `mutation($input: StartConversationInput!) { startConversation(input: $input) {
    id status contact { id phoneNumber } phoneNumber { id } lastMessage { id body direction status author { id } }
  } }`;

  it('normalises `to`, upserts the contact, opens a conversation and sends; a second start reuses it', async () => {
    const digits = randomUsNumber('415').slice(2); // 10 digits
    const pretty = `+1 (${digits.slice(0, 3)}) ${digits.slice(3, 6)}-${digits.slice(6)}`;
    const res = await server.gql(START, { input: { phoneNumberId: a.number.id, to: pretty, body: 'Your order shipped' } }, agent.token);
    expect(res.errors).toBeUndefined();
    const conv = res.data!.startConversation;
    expect(conv).toMatchObject({
      status: 'OPEN',
      contact: { phoneNumber: `+1${digits}` },
      phoneNumber: { id: a.number.id },
      lastMessage: { body: 'Your order shipped', direction: 'OUTBOUND', author: { id: agent.id } },
    });
    await settled(conv.id, conv.lastMessage.id);
    expect(postsFor('Your order shipped').map((p) => p.params['To'])).toEqual([`+1${digits}`]);

    // National format, read in our number's country; same contact, same live conversation.
    const again = await server.gql(START, { input: { phoneNumberId: a.number.id, to: digits, body: 'Tracking: 123' } }, agent.token);
    expect(again.errors).toBeUndefined();
    expect(again.data!.startConversation.id).toBe(conv.id);
    expect(again.data!.startConversation.contact.id).toBe(conv.contact.id);
    expect(again.data!.startConversation.lastMessage.body).toBe('Tracking: 123');
  });

  it('refuses a bad number, a number of another tenant, and an opted-out contact', async () => {
    for (const to of ['hello', '12345', '+1415555010', '']) {
      const res = await server.gql(START, { input: { phoneNumberId: a.number.id, to, body: 'x' } }, agent.token);
      expect(errorCode(res), to).toBe('BAD_USER_INPUT');
    }
    for (const phoneNumberId of [b.number.id, '00000000-0000-4000-8000-000000000000', 'nope']) {
      const res = await server.gql(START, { input: { phoneNumberId, to: randomUsNumber('650'), body: 'x' } }, agent.token);
      expect(errorCode(res)).toBe('NOT_FOUND');
    }
    const customer = randomUsNumber('650');
    await customerTexts(server, a, customer, 'STOP');
    const res = await server.gql(START, { input: { phoneNumberId: a.number.id, to: customer, body: 'come back' } }, agent.token);
    expect(errorCode(res)).toBe('CONTACT_OPTED_OUT');
    await dispatcherDrained();
    expect(postsFor('come back')).toHaveLength(0);
  });
});
