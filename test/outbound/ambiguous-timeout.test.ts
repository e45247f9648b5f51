import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { outbox } from '../../src/modules/outbox/outbox.schema.js';
import type { FakeTwilio } from '../helpers/fake-twilio.js';
import { customerTexts, randomUsNumber, setUpInbox, type Inbox } from '../helpers/inbox.js';
import type { TestServer } from '../helpers/test-server.js';
import { serverWithFakeTwilio } from '../helpers/suite.js';
import { sendStatus } from '../helpers/twilio-setup.js';
import { waitFor } from '../helpers/wait.js';

// A send that times out may still have been taken by Twilio: the retry waits
// DISPATCHER_AMBIGUOUS_RETRY_MS, in which Twilio's status callback records the SID; without one,
// the retry looks for the message in Twilio's Messages list before sending it again.
const AMBIGUOUS_RETRY_MS = 1500;

let server: TestServer;
let fake: FakeTwilio;
let inbox: Inbox;

serverWithFakeTwilio({ DISPATCHER_AMBIGUOUS_RETRY_MS: String(AMBIGUOUS_RETRY_MS) }, async (started) => {
  ({ server, fake } = started);
  inbox = await setUpInbox(server, fake);
  // Only the sends get the short deadline: connecting the account (the SDK's first, slow call)
  // keeps the default, so a loaded machine cannot time the set-up out. The API client factory
  // reads the deadline on every call. Config is frozen: the app's deps get a changed copy.
  server.app.deps.config = Object.freeze({ ...server.app.deps.config, twilioTimeoutMs: 300 });
});

const SEND = 'mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }';
const posts = (body: string) => fake.messageRequests.filter((r) => r.params['Body'] === body);

async function messageOf(conversationId: string, id: string) {
  const res = await server.gql(
    'query($id: ID!) { conversation(id: $id) { messages(first: 20) { edges { node { id status twilioSid } } } } }',
    { id: conversationId },
    inbox.tenant.token,
  );
  return (res.data!.conversation.messages.edges as Array<{ node: { id: string; status: string; twilioSid: string | null } }>)
    .map((e) => e.node)
    .find((m) => m.id === id)!;
}

/** Twilio answers the first POST of `body` after our 300 ms deadline: it takes the message, or (`refused`) answers 503. */
async function replySlowly(body: string, refused = false): Promise<{ conversationId: string; messageId: string; customer: string }> {
  const customer = randomUsNumber('628');
  const conversationId = await customerTexts(server, inbox, customer, 'hi');
  let slowed = false;
  fake.onMessage(({ params }) => {
    if (params['Body'] !== body || slowed) return {};
    slowed = true;
    return refused ? { delayMs: 800, error: { status: 503 } } : { delayMs: 800 };
  });
  const res = await server.gql(SEND, { input: { conversationId, body } }, inbox.tenant.token);
  expect(res.errors).toBeUndefined();
  return { conversationId, messageId: res.data!.sendMessage.id as string, customer };
}

describe('a send that timed out', () => {
  it('is not sent again when Twilio’s status callback arrives before the retry', async () => {
    const body = 'ambiguous, then confirmed';
    const { conversationId, messageId, customer } = await replySlowly(body);
    // The fake records Twilio's SID once it answers (after our deadline has passed).
    const first = await waitFor(() => (posts(body)[0]?.sid ? posts(body)[0] : undefined), { what: 'the first POST answered' });
    // Twilio took it: its "sent" callback names our message id and its SID.
    const res = await sendStatus(server, inbox.account, { messageId, messageSid: first.sid!, status: 'sent', from: inbox.number.e164, to: customer });
    expect(res.status).toBe(200);

    // The job comes due after DISPATCHER_AMBIGUOUS_RETRY_MS and is dropped (the SID is known):
    // once it is gone nothing can send the message again.
    await waitFor(async () => (await server.app.deps.db.select().from(outbox).where(eq(outbox.messageId, messageId))).length === 0, {
      what: 'the job to be dropped',
      timeoutMs: 20_000,
    });
    expect(posts(body)).toHaveLength(1);
    expect(await messageOf(conversationId, messageId)).toMatchObject({ status: 'SENT', twilioSid: first.sid });
  });

  it('without a callback, the retry finds the message at Twilio and records it instead of sending it again', async () => {
    const body = 'ambiguous, taken, never confirmed';
    const { conversationId, messageId, customer } = await replySlowly(body);
    const first = await waitFor(() => (posts(body)[0]?.sid ? posts(body)[0] : undefined), { what: 'the first POST answered' });
    const lookups = () => fake.requests.filter((r) => r.method === 'GET' && r.path.includes('/Messages.json?') && r.path.includes(encodeURIComponent(customer)));
    await waitFor(async () => ((await messageOf(conversationId, messageId)).status === 'SENT' ? true : undefined), { what: 'SENT', timeoutMs: 20_000 });
    expect(await messageOf(conversationId, messageId)).toMatchObject({ status: 'SENT', twilioSid: first.sid });
    // Looked up once the ambiguity wait was over, and the message was posted once.
    expect(lookups()).toHaveLength(1);
    expect(lookups()[0]!.at - first.at).toBeGreaterThanOrEqual(AMBIGUOUS_RETRY_MS);
    expect(posts(body)).toHaveLength(1);
  });

  it('that Twilio did not take is sent again after the look-up, not before DISPATCHER_AMBIGUOUS_RETRY_MS', async () => {
    const body = 'ambiguous, refused';
    const { conversationId, messageId } = await replySlowly(body, true);
    await waitFor(() => (posts(body).length >= 2 ? posts(body) : undefined), { what: 'the retry', timeoutMs: 20_000 });
    const [first, second] = posts(body);
    expect(first!.sid).toBeNull(); // not created (the 503 came after our deadline)
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(AMBIGUOUS_RETRY_MS);
    await waitFor(async () => ((await messageOf(conversationId, messageId)).status === 'SENT' ? true : undefined), { what: 'SENT' });
    expect((await messageOf(conversationId, messageId)).twilioSid).toBe(second!.sid);
  });

  it('does not take the SID of an identical earlier message of ours', async () => {
    // The same words sent before to the same customer, and sent fine: their copy at Twilio is
    // not this message's.
    const body = 'same words twice';
    const customer = randomUsNumber('628');
    const conversationId = await customerTexts(server, inbox, customer, 'hi');
    const sent = await server.gql(SEND, { input: { conversationId, body } }, inbox.tenant.token);
    const firstId = sent.data!.sendMessage.id as string;
    await waitFor(async () => ((await messageOf(conversationId, firstId)).status === 'SENT' ? true : undefined), { what: 'the first SENT' });
    let slowed = false;
    fake.onMessage(({ params }) => {
      if (params['Body'] !== body || slowed) return {};
      slowed = true;
      return { delayMs: 800, error: { status: 503 } };
    });
    const again = await server.gql(SEND, { input: { conversationId, body } }, inbox.tenant.token);
    const secondId = again.data!.sendMessage.id as string;
    await waitFor(async () => ((await messageOf(conversationId, secondId)).status === 'SENT' ? true : undefined), { what: 'the second SENT', timeoutMs: 20_000 });
    const [one, two] = [await messageOf(conversationId, firstId), await messageOf(conversationId, secondId)];
    expect(two.twilioSid).not.toBe(one.twilioSid);
    expect(posts(body).filter((p) => p.status === 201)).toHaveLength(2);
  });
});
