import { eq, sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { MessageDirection, MessageStatus } from '../../src/modules/messages/message.enums.js';
import { messages } from '../../src/modules/messages/messages.schema.js';
import { outbox } from '../../src/modules/outbox/outbox.schema.js';
import type { FakeTwilio } from '../helpers/fake-twilio.js';
import { customerTexts, randomUsNumber, setUpInbox, type Inbox } from '../helpers/inbox.js';
import type { TestServer } from '../helpers/test-server.js';
import { serverWithFakeTwilio } from '../helpers/suite.js';
import { addNumber } from '../helpers/twilio-setup.js';
import { waitFor } from '../helpers/wait.js';

let server: TestServer;
let fake: FakeTwilio;
let inbox: Inbox;
const calls: Array<{ body: string; at: number }> = [];

const MPS = 5; // long codes, in this file: one segment every 200 ms per sender
const GAP = 1000 / MPS;

const ENV = {
  PACING_ENABLED: 'true',
  PACING_LONG_CODE_MPS: String(MPS),
  PACING_TOLL_FREE_MPS: '1000',
  DISPATCHER_LEASE_SECONDS: '5',
};

serverWithFakeTwilio(ENV, async (started) => {
  ({ server, fake } = started);
  inbox = await setUpInbox(server, fake);
  // Record when the dispatcher calls Twilio: the pacing decision itself, free of the arrival
  // jitter at the fake (PGlite runs on this event loop and can hold a request back).
  const real = server.app.deps.twilio;
  server.app.deps.twilio = (creds) => {
    const api = real(creds);
    return {
      ...api,
      createMessage: (input) => {
        calls.push({ body: input.body, at: Date.now() });
        return api.createMessage(input);
      },
    };
  };
});

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`;
const START = `mutation($input: StartConversationInput!) { startConversation(input: $input) { id } }`;

async function startOn(phoneNumberId: string, body: string): Promise<string> {
  const res = await server.gql(START, { input: { phoneNumberId, to: randomUsNumber('650'), body } }, inbox.tenant.token);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data!.startConversation.id as string;
}

async function sendMany(conversationId: string, bodies: string[]): Promise<void> {
  await Promise.all(bodies.map((body) => server.gql(SEND, { input: { conversationId, body } }, inbox.tenant.token)));
}

/** When each send with this body prefix was handed to Twilio (successful ones). */
const callTimes = (prefix: string) => calls.filter((c) => c.body.startsWith(prefix)).map((c) => c.at);
const arrivals = (prefix: string) => fake.messageRequests.filter((r) => String(r.params['Body']).startsWith(prefix) && r.status === 201).map((r) => r.at);

describe('per-sender pacing', () => {
  it('spaces one sender\'s sends by its rate without holding up another sender', async () => {
    const busy = await addNumber(server, inbox.tenant.token, inbox.account.id, randomUsNumber());
    const quiet = await addNumber(server, inbox.tenant.token, inbox.account.id, randomUsNumber());
    const busyConversation = await startOn(busy.id, 'busy-0');
    await waitFor(() => arrivals('busy-').length === 1, { what: 'the opening message' });
    const quietConversation = await startOn(quiet.id, 'quiet-opening');
    await waitFor(() => arrivals('quiet-').length === 1, { what: 'the quiet opening message' });

    // The busy number's burst is queued first, then the quiet number's one message. Paced per
    // sender, the quiet one goes at the next claim; queued behind the burst (one pace for all),
    // it would go after the burst's last slot, 9 gaps (1.8 s) after its first. The assertions are
    // on order and lower bounds only, which load (late timers, slow claims) cannot break.
    const burst = Array.from({ length: 10 }, (_, i) => `busy-${i + 1}`);
    const queuedAt = Date.now();
    await sendMany(busyConversation, burst);
    await sendMany(quietConversation, ['quiet-1']);
    await waitFor(() => arrivals('busy-').length === 1 + burst.length && arrivals('quiet-').length === 2, {
      what: 'all paced sends',
      timeoutMs: 30_000,
    });

    const busyTimes = callTimes('busy-').slice(1).sort((x, y) => x - y);
    expect(busyTimes).toHaveLength(burst.length);
    // Never faster than the pace: the j-th send of the burst takes the j-th slot after it was
    // queued, and a slot is never early (a timer may fire a millisecond early). A late claim can
    // bunch two sends together, so gaps between neighbours are not a bound.
    busyTimes.forEach((at, j) => expect(at - queuedAt, `send ${j} of the burst`).toBeGreaterThanOrEqual(j * GAP - 3));
    // The other number is not queued behind the busy one's burst: it overtakes it.
    const quietCall = callTimes('quiet-')[1]!;
    expect(quietCall).toBeLessThan(busyTimes.at(-1)!);
  });

  it('counts segments: a 3-segment message takes three slots', async () => {
    const number = await addNumber(server, inbox.tenant.token, inbox.account.id, randomUsNumber());
    const conversationId = await startOn(number.id, 'seg-0');
    await waitFor(() => arrivals('seg-').length === 1, { what: 'the opening message' });
    const queuedAt = Date.now();
    await sendMany(conversationId, [`seg-long ${'x'.repeat(400)}`]); // 409 GSM-7 chars: 3 segments
    await sendMany(conversationId, ['seg-after']);
    await waitFor(() => arrivals('seg-').length === 3, { what: 'both sends' });
    // The long message's slot is at or after queuedAt; the next one is 3 slots later, never early.
    const [, , after] = callTimes('seg-');
    expect(after! - queuedAt).toBeGreaterThanOrEqual(3 * GAP - 3);
  });

  it('shares the pace through sender_pacing (the next free slot is recorded in the database)', async () => {
    const rows = await server.app.deps.db.execute(sql`select count(*)::int as n from sender_pacing where next_send_at > now() - interval '1 minute'`);
    const n = (Array.isArray(rows) ? rows[0] : (rows as { rows: Array<{ n: number }> }).rows[0]) as { n: number };
    expect(n.n).toBeGreaterThan(0);
  });
});

describe('crash safety', () => {
  let conversationId: string;

  beforeAll(async () => {
    conversationId = await customerTexts(server, inbox, randomUsNumber('650'), 'Hi');
  });

  /** A queued message whose job was claimed by a dispatcher that then died. */
  async function orphanedJob(body: string, lockedForMs: number, status = MessageStatus.SENDING, twilioSid: string | null = null) {
    const db = server.app.deps.db;
    const [message] = await db
      .insert(messages)
      .values({
        tenantId: inbox.tenant.tenantId,
        conversationId,
        twilioAccountId: inbox.account.id,
        direction: MessageDirection.OUTBOUND,
        body,
        status,
        twilioSid,
        segments: 1,
      })
      .returning();
    await db.insert(outbox).values({
      tenantId: inbox.tenant.tenantId,
      messageId: message!.id,
      phoneNumberId: inbox.number.id,
      attempts: 1,
      lockedBy: 'crashed-instance',
      lockedUntil: sql`now() + ${lockedForMs} * interval '1 millisecond'`,
    });
    return message!;
  }

  it('sends a job whose lease expired (its dispatcher crashed), once, and not before', async () => {
    const leasedUntil = Date.now() + 700;
    const message = await orphanedJob('orphan', 700);
    const sentAt = await waitFor(() => arrivals('orphan')[0], { what: 'the orphaned job to be sent' });
    expect(sentAt).toBeGreaterThanOrEqual(leasedUntil - 50);
    await waitFor(async () => {
      const [row] = await server.app.deps.db.select().from(messages).where(eq(messages.id, message.id));
      return row!.status === MessageStatus.SENT;
    });
    // The job is gone (deleted with the SENT status, in one statement): nothing can send it again.
    expect(await server.app.deps.db.select().from(outbox).where(eq(outbox.messageId, message.id))).toEqual([]);
    expect(arrivals('orphan')).toHaveLength(1);
  });

  it('never sends again a job whose message Twilio already accepted (SID recorded, callback arrived)', async () => {
    const message = await orphanedJob('already-delivered', 0, MessageStatus.DELIVERED, 'SM' + 'a'.repeat(32));
    await waitFor(async () => (await server.app.deps.db.select().from(outbox).where(eq(outbox.messageId, message.id))).length === 0, {
      what: 'the stale job to be dropped',
    });
    const [row] = await server.app.deps.db.select().from(messages).where(eq(messages.id, message.id));
    expect(row!.status).toBe(MessageStatus.DELIVERED);
    expect(fake.messageRequests.filter((r) => r.params['Body'] === 'already-delivered')).toHaveLength(0);
  });
});
