import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contacts, conversations } from '../../src/db/schema.js';
import { ConversationStatus } from '../../src/modules/conversations/conversation-status.js';
import { fakeSid, inboundSmsParams, startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { createHash } from 'node:crypto';
import { computeTwilioSignature } from '../../src/twilio/signature.js';
import { addNumber, connectAccount, localUrl, sendInbound } from '../helpers/twilio-setup.js';
import {
  EMPTY_TWIML,
  collectEvents,
  contactOf,
  conversationsOf,
  dbOf,
  messagesOf,
  randomUsNumber,
  tenantWithNumber,
  type TenantWithNumber,
} from './fixtures.js';

let server: TestServer;
let fake: FakeTwilio;

beforeAll(async () => {
  // No outbox dispatcher: its polling would blur the statement count of the hot path below.
  [server, fake] = await Promise.all([startTestServer({ DISPATCHER_ENABLED: 'false' }), startFakeTwilio()]);
});
afterAll(async () => {
  await Promise.all([server?.close(), fake?.close()]);
});

async function expectEmptyTwiml(res: Response) {
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/xml/);
  expect(await res.text()).toBe(EMPTY_TWIML);
}

describe('inbound SMS', () => {
  let t: TenantWithNumber;
  beforeAll(async () => {
    t = await tenantWithNumber(server, fake);
  });

  it('stores a signed message once: contact (with geo), open conversation, message', async () => {
    const from = randomUsNumber();
    const sid = fakeSid('SM');
    await expectEmptyTwiml(await sendInbound(server, t.account, { from, to: t.number.e164, body: 'Hi, is the clinic open?', messageSid: sid }));

    const contact = await contactOf(server, t.tenant.tenantId, from);
    expect(contact).toMatchObject({ phoneNumber: from, optedOut: false, city: 'SAN FRANCISCO', state: 'CA', zip: '94105', country: 'US' });
    const convs = (await conversationsOf(server, t.tenant.tenantId)).filter((c) => c.contactId === contact!.id);
    expect(convs).toHaveLength(1);
    const msgs = (await messagesOf(server, t.tenant.tenantId)).filter((m) => m.conversationId === convs[0]!.id);
    expect(msgs).toHaveLength(1);
    expect(msgs[0]).toMatchObject({
      direction: 'INBOUND',
      status: 'RECEIVED',
      body: 'Hi, is the clinic open?',
      twilioSid: sid,
      twilioAccountId: t.account.id,
      segments: 1,
      media: [],
      mediaDropped: 0,
    });
    expect(convs[0]).toMatchObject({ status: 'OPEN', phoneNumberId: t.number.id, unreadCount: 1, lastMessageId: msgs[0]!.id });
  });

  it('threads the next messages into the same conversation; geo fills in, never blanks out', async () => {
    const from = randomUsNumber();
    await sendInbound(server, t.account, { from, to: t.number.e164, body: 'first' });
    const noGeo = { FromCity: undefined, FromState: undefined, FromZip: '', FromCountry: undefined };
    await expectEmptyTwiml(await sendInbound(server, t.account, { from, to: t.number.e164, body: 'second', extra: noGeo }));
    await expectEmptyTwiml(await sendInbound(server, t.account, { from, to: t.number.e164, body: 'third', extra: { FromCity: 'OAKLAND' } }));

    const contact = await contactOf(server, t.tenant.tenantId, from);
    expect(contact).toMatchObject({ city: 'OAKLAND', state: 'CA', zip: '94105', country: 'US' });
    const convs = (await conversationsOf(server, t.tenant.tenantId)).filter((c) => c.contactId === contact!.id);
    expect(convs).toHaveLength(1);
    const msgs = (await messagesOf(server, t.tenant.tenantId)).filter((m) => m.conversationId === convs[0]!.id);
    expect(msgs.map((m) => m.body)).toEqual(['first', 'second', 'third']);
    expect(convs[0]!.unreadCount).toBe(3);
    expect(convs[0]!.lastMessageId).toBe(msgs[2]!.id);
  });

  it('counts segments (Twilio’s NumSegments, else our own) and keeps the body as given', async () => {
    const from = randomUsNumber();
    const long = 'é'.repeat(10) + '😀'.repeat(40); // UCS-2, 90 units → 2 segments
    await sendInbound(server, t.account, { from, to: t.number.e164, body: long, extra: { NumSegments: undefined } });
    await sendInbound(server, t.account, { from, to: t.number.e164, body: '  spaced  ', extra: { NumSegments: '3' } });
    const contact = await contactOf(server, t.tenant.tenantId, from);
    const [conv] = (await conversationsOf(server, t.tenant.tenantId)).filter((c) => c.contactId === contact!.id);
    const msgs = (await messagesOf(server, t.tenant.tenantId)).filter((m) => m.conversationId === conv!.id);
    expect(msgs.map((m) => [m.body, m.segments])).toEqual([
      [long, 2],
      ['  spaced  ', 3],
    ]);
  });

  it('the same MessageSid 5 times (at once) → 1 message, 200 each, one set of events', async () => {
    const from = randomUsNumber();
    const sid = fakeSid('SM');
    const live = collectEvents(server, t.tenant.tenantId, ['messageAdded', 'conversationUpdated']);
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => sendInbound(server, t.account, { from, to: t.number.e164, body: 'retry me', messageSid: sid })),
    );
    for (const res of answers) await expectEmptyTwiml(res);
    // And once more after the fact.
    await expectEmptyTwiml(await sendInbound(server, t.account, { from, to: t.number.e164, body: 'retry me', messageSid: sid }));

    const msgs = (await messagesOf(server, t.tenant.tenantId)).filter((m) => m.twilioSid === sid);
    expect(msgs).toHaveLength(1);
    const [conv] = (await conversationsOf(server, t.tenant.tenantId)).filter((c) => c.id === msgs[0]!.conversationId);
    expect(conv!.unreadCount).toBe(1);
    await live.settle();
    await live.stop();
    expect(live.events.filter((e) => e.type === 'messageAdded')).toEqual([
      {
        type: 'messageAdded',
        tenantId: t.tenant.tenantId,
        id: msgs[0]!.id,
        conversationId: conv!.id,
        committed: { row: msgs[0], holder: { teamId: null, assigneeId: null } },
      },
    ]);
    expect(live.events.filter((e) => e.type === 'conversationUpdated')).toHaveLength(1);
  });

  it('20 concurrent first messages from one new number → 1 conversation, 20 messages', async () => {
    const from = randomUsNumber();
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => sendInbound(server, t.account, { from, to: t.number.e164, body: `burst ${i}` })),
    );
    for (const res of answers) await expectEmptyTwiml(res);
    const contactRows = await dbOf(server).select().from(contacts).where(eq(contacts.phoneNumber, from));
    expect(contactRows).toHaveLength(1);
    const convs = (await conversationsOf(server, t.tenant.tenantId)).filter((c) => c.contactId === contactRows[0]!.id);
    expect(convs).toHaveLength(1);
    const msgs = (await messagesOf(server, t.tenant.tenantId)).filter((m) => m.conversationId === convs[0]!.id);
    expect(msgs).toHaveLength(20);
    expect(new Set(msgs.map((m) => m.body)).size).toBe(20);
    expect(convs[0]!.unreadCount).toBe(20);
    expect(msgs.map((m) => m.id)).toContain(convs[0]!.lastMessageId);
  });

  it('a RESOLVED conversation is not reopened: the next text starts a new one', async () => {
    const from = randomUsNumber();
    await sendInbound(server, t.account, { from, to: t.number.e164, body: 'before' });
    const contact = await contactOf(server, t.tenant.tenantId, from);
    const [old] = (await conversationsOf(server, t.tenant.tenantId)).filter((c) => c.contactId === contact!.id);
    // Direct write: resolving is the agent workflow's mutation, not this module's.
    await dbOf(server).update(conversations).set({ status: ConversationStatus.RESOLVED }).where(eq(conversations.id, old!.id));

    await expectEmptyTwiml(await sendInbound(server, t.account, { from, to: t.number.e164, body: 'after' }));
    const convs = (await conversationsOf(server, t.tenant.tenantId)).filter((c) => c.contactId === contact!.id);
    expect(convs).toHaveLength(2);
    const fresh = convs.find((c) => c.id !== old!.id)!;
    expect(fresh.status).toBe('OPEN');
    expect(convs.find((c) => c.id === old!.id)!.status).toBe('RESOLVED');
    const msgs = await messagesOf(server, t.tenant.tenantId);
    expect(msgs.filter((m) => m.conversationId === old!.id).map((m) => m.body)).toEqual(['before']);
    expect(msgs.filter((m) => m.conversationId === fresh.id).map((m) => m.body)).toEqual(['after']);

    // A PENDING one is still live: it keeps threading.
    await dbOf(server).update(conversations).set({ status: ConversationStatus.PENDING }).where(eq(conversations.id, fresh.id));
    await sendInbound(server, t.account, { from, to: t.number.e164, body: 'still there?' });
    expect((await conversationsOf(server, t.tenant.tenantId)).filter((c) => c.contactId === contact!.id)).toHaveLength(2);
  });

  it('one customer texting two of our numbers has one contact and two conversations', async () => {
    const second = await addNumber(server, t.tenant.token, t.account.id, randomUsNumber());
    const from = randomUsNumber();
    await sendInbound(server, t.account, { from, to: t.number.e164, body: 'to the first' });
    await sendInbound(server, t.account, { from, to: second.e164, body: 'to the second' });
    const contact = await contactOf(server, t.tenant.tenantId, from);
    const convs = (await conversationsOf(server, t.tenant.tenantId)).filter((c) => c.contactId === contact!.id);
    expect(convs.map((c) => c.phoneNumberId).sort()).toEqual([t.number.id, second.id].sort());
  });

  it('costs one SQL statement once the account is cached (the benchmarked hot path)', async () => {
    const from = randomUsNumber();
    await sendInbound(server, t.account, { from, to: t.number.e164, body: 'warm-up' });
    const stats = server.app.deps.database.stats;
    // The counter is the server's: a background poll (search index merge, automations, media
    // copies) can land inside one try's count, never inside all three, so the fewest is the webhooks' own.
    const counts: number[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const before = stats.statements;
      await expectEmptyTwiml(await sendInbound(server, t.account, { from: randomUsNumber(), to: t.number.e164, body: 'new customer' }));
      await expectEmptyTwiml(await sendInbound(server, t.account, { from, to: t.number.e164, body: 'known customer' }));
      counts.push(stats.statements - before);
    }
    expect(Math.min(...counts)).toBe(2);
  });

  it('accepts a JSON body signed with the bodySHA256 scheme', async () => {
    const from = randomUsNumber();
    const sid = fakeSid('SM');
    const body = JSON.stringify(inboundSmsParams({ accountSid: t.account.accountSid, from, to: t.number.e164, body: 'as json', messageSid: sid }));
    const hash = createHash('sha256').update(body).digest('hex');
    const advertised = `${t.account.inboundWebhookUrl}?bodySHA256=${hash}`;
    const send = (signature: string, payload = body) =>
      fetch(localUrl(server, advertised), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-twilio-signature': signature },
        body: payload,
      });
    const good = computeTwilioSignature(t.account.authToken, advertised, {});
    // The body must match its hash, even with a valid URL signature.
    expect((await send(good, body.replace('as json', 'as jsoN'))).status).toBe(403);
    await expectEmptyTwiml(await send(good));
    const msgs = (await messagesOf(server, t.tenant.tenantId)).filter((m) => m.twilioSid === sid);
    expect(msgs.map((m) => m.body)).toEqual(['as json']);
  });
});

describe('inbound to numbers that are not ours', () => {
  it('answers 200 with empty TwiML and stores nothing', async () => {
    const t = await tenantWithNumber(server, fake);
    const other = await tenantWithNumber(server, fake);
    // (An OUTBOUND-only number keeps texts quietly: test/accounts/account-lifecycle.test.ts.)
    const removed = await addNumber(server, t.tenant.token, t.account.id, randomUsNumber());
    const gone = await server.gql('mutation($id: ID!) { removePhoneNumber(id: $id) }', { id: removed.id }, t.tenant.token);
    expect(gone.errors).toBeUndefined();
    // A number of the same tenant on another of its accounts.
    const secondCreds = fake.addAccount();
    const secondAccount = await connectAccount(server, t.tenant.token, fake.url, secondCreds);
    const onOtherAccount = await addNumber(server, t.tenant.token, secondAccount.id, randomUsNumber());

    const from = randomUsNumber();
    for (const to of [randomUsNumber(), removed.e164, other.number.e164, onOtherAccount.e164]) {
      await expectEmptyTwiml(await sendInbound(server, t.account, { from, to, body: 'hello?' }));
    }
    expect(await messagesOf(server, t.tenant.tenantId)).toHaveLength(0);
    expect(await messagesOf(server, other.tenant.tenantId)).toHaveLength(0);
    expect(await contactOf(server, t.tenant.tenantId, from)).toBeUndefined();
    expect(await conversationsOf(server, t.tenant.tenantId)).toHaveLength(0);
  });
});

describe('opt-out keywords', () => {
  let t: TenantWithNumber;
  beforeAll(async () => {
    t = await tenantWithNumber(server, fake);
  });

  async function text(from: string, body: string, extra: Record<string, string | undefined> = {}) {
    await expectEmptyTwiml(await sendInbound(server, t.account, { from, to: t.number.e164, body, extra }));
    return (await contactOf(server, t.tenant.tenantId, from))!;
  }

  it('STOP (any case, spaces around) opts out; START opts back in; the keyword is stored like any message', async () => {
    const from = randomUsNumber();
    expect((await text(from, 'hello')).optedOut).toBe(false);
    const stopped = await text(from, '  stop \n');
    expect(stopped.optedOut).toBe(true);
    expect(stopped.optedOutAt).toBeInstanceOf(Date);
    expect((await text(from, 'Stop please')).optedOut).toBe(true); // not a keyword: no change
    expect((await text(from, 'START')).optedOut).toBe(false);
    const bodies = (await messagesOf(server, t.tenant.tenantId)).filter((m) => m.body.length > 0).map((m) => m.body);
    expect(bodies).toEqual(expect.arrayContaining(['hello', '  stop \n', 'Stop please', 'START']));
  });

  it.each([
    ['STOPALL', 'UNSTOP'],
    ['unsubscribe', 'yes'],
    ['Cancel', 'start'],
    ['END', 'Yes'],
    ['quit', ' unstop '],
    ['REVOKE', 'start'],
    [' optout ', 'UNSTOP'],
  ])('%s opts out and %s opts in', async (out, back) => {
    const from = randomUsNumber();
    expect((await text(from, out)).optedOut).toBe(true);
    expect((await text(from, 'question?')).optedOut).toBe(true);
    expect((await text(from, back)).optedOut).toBe(false);
  });

  it("Twilio's OptOutType decides when present (Advanced Opt-Out custom keywords)", async () => {
    const from = randomUsNumber();
    expect((await text(from, 'ARRÊTER', { OptOutType: 'STOP' })).optedOut).toBe(true);
    expect((await text(from, 'HELP', { OptOutType: 'HELP' })).optedOut).toBe(true);
    expect((await text(from, 'REPRENDRE', { OptOutType: 'START' })).optedOut).toBe(false);
  });
});

describe('live events', () => {
  it("are published after commit for the message's tenant only", async () => {
    const a = await tenantWithNumber(server, fake);
    const b = await tenantWithNumber(server, fake);
    const liveA = collectEvents(server, a.tenant.tenantId, ['messageAdded', 'conversationUpdated', 'messageUpdated']);
    const liveB = collectEvents(server, b.tenant.tenantId, ['messageAdded', 'conversationUpdated', 'messageUpdated']);
    await sendInbound(server, a.account, { from: randomUsNumber(), to: a.number.e164, body: 'live!' });
    await liveA.settle();
    await liveB.settle();
    await Promise.all([liveA.stop(), liveB.stop()]);

    const [msg] = await messagesOf(server, a.tenant.tenantId);
    expect(liveA.events).toEqual([
      // With the row as stored, column for column (LiveEvent.committed: this instance loads nothing).
      {
        type: 'messageAdded',
        tenantId: a.tenant.tenantId,
        id: msg!.id,
        conversationId: msg!.conversationId,
        committed: { row: msg, holder: { teamId: null, assigneeId: null } },
      },
      { type: 'conversationUpdated', tenantId: a.tenant.tenantId, id: msg!.conversationId, conversationId: msg!.conversationId },
    ]);
    expect(liveB.events).toEqual([]);
  });
});

describe('storage failures', () => {
  it('a retried MessageSid undoes the whole statement: not even a new contact is left behind', async () => {
    const t = await tenantWithNumber(server, fake);
    const sid = fakeSid('SM');
    const first = randomUsNumber();
    await expectEmptyTwiml(await sendInbound(server, t.account, { from: first, to: t.number.e164, body: 'original', messageSid: sid }));
    // Same SID, another sender: the contact upsert runs before the message insert meets the
    // unique key, in the same statement, so it is rolled back with it.
    const second = randomUsNumber();
    await expectEmptyTwiml(await sendInbound(server, t.account, { from: second, to: t.number.e164, body: 'forged', messageSid: sid }));
    expect(await contactOf(server, t.tenant.tenantId, second)).toBeUndefined();
    expect(await conversationsOf(server, t.tenant.tenantId)).toHaveLength(1);
    expect((await messagesOf(server, t.tenant.tenantId)).map((m) => m.body)).toEqual(['original']);
  });

  it('a NUL byte, which Postgres refuses in text, is stored replaced and answered 200 (a 503 would be retried forever)', async () => {
    const t = await tenantWithNumber(server, fake);
    const from = randomUsNumber();
    const res = await sendInbound(server, t.account, { from, to: t.number.e164, body: 'bad \u0000 byte' });
    await expectEmptyTwiml(res);
    expect((await messagesOf(server, t.tenant.tenantId)).map((m) => m.body)).toEqual(['bad \uFFFD byte']);
  });

  it('the database down → 503, for a cached account and an unknown one alike', async () => {
    const own = await startTestServer();
    try {
      const t = await tenantWithNumber(own, fake);
      const from = randomUsNumber();
      // The first webhook caches the account (and its token) in this instance.
      await expectEmptyTwiml(await sendInbound(own, t.account, { from, to: t.number.e164, body: 'up' }));
      await own.app.deps.database.close();
      const down = await sendInbound(own, t.account, { from, to: t.number.e164, body: 'down' });
      expect(down.status).toBe(503);
      expect(await down.text()).not.toContain('Response');
      const unknownKey = await fetch(`${own.url}/webhooks/twilio/${'k'.repeat(32)}/sms`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'MessageSid=x',
      });
      expect(unknownKey.status).toBe(503);
    } finally {
      await own.close();
    }
  });
});
