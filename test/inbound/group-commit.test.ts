/**
 * Group commit (src/modules/inbound/ingest-batcher.ts) through the real server: concurrent
 * signed webhooks are stored by one statement, and each request still gets exactly what it would
 * have got alone. The server here gathers for up to a second (INGEST_BATCH_WAIT_MS=1000), so the
 * webhooks a test sends at once land in one batch however slow the machine; /metrics
 * (`inbound_batch_size`, `inbound_batch_fallbacks_total`) shows the batches that formed.
 */
import { randomUUID } from 'node:crypto';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contacts, conversations, mediaCopyJobs, messages, unroutedMessages } from '../../src/db/schema.js';
import type { LiveEvent } from '../../src/events/event-bus.js';
import { parseInboundSms } from '../../src/modules/inbound/webhook-params.js';
import { fakeSid, inboundSmsParams, startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { sendInbound } from '../helpers/twilio-setup.js';
import { waitFor } from '../helpers/wait.js';
import { EMPTY_TWIML, contactOf, conversationsOf, dbOf, messagesOf, randomUsNumber, tenantWithNumber, type TenantWithNumber } from './fixtures.js';

let server: TestServer;
let fake: FakeTwilio;

beforeAll(async () => {
  [server, fake] = await Promise.all([
    startTestServer({ DISPATCHER_ENABLED: 'false', MEDIA_COPY_ENABLED: 'false', INGEST_BATCH_MAX: '64', INGEST_BATCH_WAIT_MS: '1000' }),
    startFakeTwilio(),
  ]);
}, 180_000);
afterAll(async () => {
  await Promise.all([server?.close(), fake?.close()]);
});

interface BatchMetrics {
  /** Statements (batches and lone texts) observed. */
  count: number;
  /** Texts in them. */
  sum: number;
  /** Batches of more than 4 texts. */
  over4: number;
  fallbacks: number;
}

async function batchMetrics(): Promise<BatchMetrics> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? NaN);
  const all = value(/^inbound_batch_size_bucket\{le="\+Inf"\} (\d+)$/m);
  return {
    count: value(/^inbound_batch_size_count (\d+)$/m),
    sum: value(/^inbound_batch_size_sum (\d+)$/m),
    over4: all - value(/^inbound_batch_size_bucket\{le="4"\} (\d+)$/m),
    fallbacks: value(/^inbound_batch_fallbacks_total (\d+)$/m),
  };
}

function delta(before: BatchMetrics, after: BatchMetrics): BatchMetrics {
  return { count: after.count - before.count, sum: after.sum - before.sum, over4: after.over4 - before.over4, fallbacks: after.fallbacks - before.fallbacks };
}

/** Sends a text alone and checks it was stored (setting the scene before a batch). */
async function textAlone(t: TenantWithNumber, from: string, body: string, messageSid?: string): Promise<void> {
  const res = await sendInbound(server, t.account, { from, to: t.number.e164, body, messageSid });
  expect(res.status).toBe(200);
}

/** Every live event of these tenants, as the event bus hands them to subscribers. */
function listen(tenantIds: string[]) {
  const events = new Map<string, LiveEvent[]>(tenantIds.map((id) => [id, []]));
  const iterators = tenantIds.map((tenantId) => server.app.deps.events.subscribe(tenantId, { types: ['messageAdded', 'conversationUpdated', 'contactUpdated'] }));
  const loops = iterators.map(async (iterator, i) => {
    for await (const e of iterator) events.get(tenantIds[i]!)!.push(e);
  });
  return {
    events,
    async stop() {
      await Promise.all(iterators.map((it) => it.return?.()));
      await Promise.all(loops);
    },
  };
}

describe('group commit of inbound texts', { timeout: 120_000 }, () => {
  let a: TenantWithNumber;
  let b: TenantWithNumber;
  beforeAll(async () => {
    [a, b] = await Promise.all([tenantWithNumber(server, fake), tenantWithNumber(server, fake)]);
  }, 120_000);

  it('concurrent webhooks form one batch: every one answered 200 after its commit, each stored once', async () => {
    const before = await batchMetrics();
    const sends = Array.from({ length: 12 }, (_, i) => ({ from: randomUsNumber(), sid: fakeSid('SM'), body: `batch text ${i}` }));
    const answers = await Promise.all(sends.map((s) => sendInbound(server, a.account, { from: s.from, to: a.number.e164, body: s.body, messageSid: s.sid })));
    for (const res of answers) {
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(EMPTY_TWIML);
    }
    // Answered only after the commit: every row is there as soon as the answers are.
    const stored = await dbOf(server).select().from(messages).where(inArray(messages.twilioSid, sends.map((s) => s.sid)));
    expect(stored).toHaveLength(12);
    const convs = await dbOf(server).select().from(conversations).where(inArray(conversations.id, stored.map((m) => m.conversationId)));
    expect(convs).toHaveLength(12);
    for (const c of convs) expect(c).toMatchObject({ status: 'OPEN', unreadCount: 1, tenantId: a.tenant.tenantId, phoneNumberId: a.number.id });
    for (const c of convs) expect(c.firstInboundAt).not.toBeNull();
    const d = delta(before, await batchMetrics());
    expect(d.sum).toBe(12);
    expect(d.over4).toBeGreaterThanOrEqual(1);
    expect(d.count).toBeLessThan(12);
    expect(d.fallbacks).toBe(0);
  });

  it('the same MessageSid twice in one batch (and a retry of a stored one): stored once, every request answered 200', async () => {
    const from = randomUsNumber();
    const storedSid = fakeSid('SM');
    await textAlone(a, randomUsNumber(), 'stored before', storedSid);
    const live = listen([a.tenant.tenantId]);
    const before = await batchMetrics();
    const twice = fakeSid('SM');
    const others = Array.from({ length: 5 }, () => ({ from: randomUsNumber(), sid: fakeSid('SM') }));
    const answers = await Promise.all([
      sendInbound(server, a.account, { from, to: a.number.e164, body: 'sent twice', messageSid: twice }),
      sendInbound(server, a.account, { from, to: a.number.e164, body: 'sent twice', messageSid: twice }),
      sendInbound(server, a.account, { from: randomUsNumber(), to: a.number.e164, body: 'stored before', messageSid: storedSid }),
      ...others.map((o) => sendInbound(server, a.account, { from: o.from, to: a.number.e164, body: 'neighbour', messageSid: o.sid })),
    ]);
    for (const res of answers) {
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(EMPTY_TWIML);
    }
    const rows = await dbOf(server).select().from(messages).where(eq(messages.twilioSid, twice));
    expect(rows).toHaveLength(1);
    expect(await dbOf(server).select().from(messages).where(eq(messages.twilioSid, storedSid))).toHaveLength(1);
    const [conv] = await dbOf(server).select().from(conversations).where(eq(conversations.id, rows[0]!.conversationId));
    expect(conv!.unreadCount).toBe(1);
    expect(await dbOf(server).select().from(messages).where(inArray(messages.twilioSid, others.map((o) => o.sid)))).toHaveLength(5);
    expect(delta(before, await batchMetrics()).over4).toBeGreaterThanOrEqual(1);
    // One messageAdded for the doubled SID (its events come with the other texts').
    // (The text stored before may still have its event on the way: only the batch's are counted.)
    const batchIds = new Set([rows[0]!.id, ...(await dbOf(server).select().from(messages).where(inArray(messages.twilioSid, others.map((o) => o.sid)))).map((m) => m.id)]);
    const added = () => live.events.get(a.tenant.tenantId)!.filter((e) => e.type === 'messageAdded' && batchIds.has(e.id));
    await waitFor(() => added().length >= 6, { what: 'the messageAdded events of the batch', timeoutMs: 20_000 });
    // Marker: a later text's event arrives after any repeat would have.
    const markerFrom = randomUsNumber();
    await textAlone(a, markerFrom, 'marker');
    const markerContact = (await contactOf(server, a.tenant.tenantId, markerFrom))!.id;
    const markerConv = (await conversationsOf(server, a.tenant.tenantId)).find((c) => c.contactId === markerContact)!.id;
    await waitFor(() => live.events.get(a.tenant.tenantId)!.some((e) => e.conversationId === markerConv), { what: 'the marker event', timeoutMs: 20_000 });
    await live.stop();
    expect(added().filter((e) => e.id === rows[0]!.id)).toHaveLength(1);
    expect(added()).toHaveLength(6);
  });

  it('one bad row fails only its own request: the batch is re-run one by one, its neighbours are stored', async () => {
    // A real constraint the poisoned row breaks (bad data the webhook validation lets through).
    await dbOf(server).execute(sql`alter table messages add constraint test_group_commit_poison check (body <> 'POISON')`);
    try {
      const before = await batchMetrics();
      const good = Array.from({ length: 7 }, () => ({ from: randomUsNumber(), sid: fakeSid('SM') }));
      const poisonSid = fakeSid('SM');
      const poisonFrom = randomUsNumber();
      const answers = await Promise.all([
        ...good.map((g) => sendInbound(server, a.account, { from: g.from, to: a.number.e164, body: 'fine', messageSid: g.sid })),
        sendInbound(server, a.account, { from: poisonFrom, to: a.number.e164, body: 'POISON', messageSid: poisonSid }),
      ]);
      for (const res of answers.slice(0, 7)) expect(res.status).toBe(200);
      expect(answers[7]!.status).toBe(503);
      expect(await dbOf(server).select().from(messages).where(inArray(messages.twilioSid, good.map((g) => g.sid)))).toHaveLength(7);
      expect(await dbOf(server).select().from(messages).where(eq(messages.twilioSid, poisonSid))).toHaveLength(0);
      // Its statement was undone whole: not even the new contact is left.
      expect(await contactOf(server, a.tenant.tenantId, poisonFrom)).toBeUndefined();
      const d = delta(before, await batchMetrics());
      expect(d.fallbacks).toBe(1);
      expect(d.over4).toBeGreaterThanOrEqual(1);
    } finally {
      await dbOf(server).execute(sql`alter table messages drop constraint test_group_commit_poison`);
    }
    // Twilio retries it (to the fallback URL, or later): now stored.
  });

  it('two tenants in one batch: each gets only its own live events', async () => {
    const live = listen([a.tenant.tenantId, b.tenant.tenantId]);
    const before = await batchMetrics();
    const sends = [
      ...Array.from({ length: 4 }, () => ({ t: a, from: randomUsNumber(), sid: fakeSid('SM') })),
      ...Array.from({ length: 4 }, () => ({ t: b, from: randomUsNumber(), sid: fakeSid('SM') })),
    ];
    const answers = await Promise.all(sends.map((s) => sendInbound(server, s.t.account, { from: s.from, to: s.t.number.e164, body: 'hello', messageSid: s.sid })));
    for (const res of answers) expect(res.status).toBe(200);
    expect(delta(before, await batchMetrics()).over4).toBeGreaterThanOrEqual(1);
    const rows = await dbOf(server).select().from(messages).where(inArray(messages.twilioSid, sends.map((s) => s.sid)));
    expect(rows).toHaveLength(8);
    const idsOf = (tenantId: string) => new Set(rows.filter((m) => m.tenantId === tenantId).flatMap((m) => [m.id, m.conversationId]));
    const ofA = idsOf(a.tenant.tenantId);
    const ofB = idsOf(b.tenant.tenantId);
    expect(ofA.size).toBe(8);
    expect(ofB.size).toBe(8);
    // Markers, one per tenant, after the batch.
    const markerFrom = randomUsNumber();
    await textAlone(a, markerFrom, 'marker a');
    await textAlone(b, markerFrom, 'marker b');
    const markerOf = async (t: TenantWithNumber) => (await contactOf(server, t.tenant.tenantId, markerFrom))!.id;
    const [markerA, markerB] = [await markerOf(a), await markerOf(b)];
    const markerConv = async (t: TenantWithNumber, contactId: string) =>
      (await conversationsOf(server, t.tenant.tenantId)).find((c) => c.contactId === contactId)!.id;
    const [convA, convB] = [await markerConv(a, markerA), await markerConv(b, markerB)];
    await waitFor(() => live.events.get(a.tenant.tenantId)!.some((e) => e.conversationId === convA), { what: "tenant A's marker", timeoutMs: 20_000 });
    await waitFor(() => live.events.get(b.tenant.tenantId)!.some((e) => e.conversationId === convB), { what: "tenant B's marker", timeoutMs: 20_000 });
    await live.stop();
    for (const [tenantId, own, other] of [
      [a.tenant.tenantId, ofA, ofB],
      [b.tenant.tenantId, ofB, ofA],
    ] as const) {
      const got = live.events.get(tenantId)!;
      expect(got.every((e) => e.tenantId === tenantId)).toBe(true);
      expect(got.filter((e) => other.has(e.id) || other.has(e.conversationId))).toEqual([]);
      const added = got.filter((e) => e.type === 'messageAdded' && own.has(e.id));
      expect(added).toHaveLength(4);
    }
  });

  it('one batch keeps every per-message rule: rounds per contact, STOP, blocked, media jobs, unknown number', async () => {
    const t = await tenantWithNumber(server, fake);
    const existing = randomUsNumber();
    const twice = randomUsNumber();
    const stopper = randomUsNumber();
    const blocked = randomUsNumber();
    const mms = randomUsNumber();
    const fresh = randomUsNumber();
    await textAlone(t, existing, 'earlier');
    await textAlone(t, stopper, 'earlier');
    await textAlone(t, blocked, 'earlier');
    await dbOf(server)
      .update(contacts)
      .set({ blocked: true })
      .where(and(eq(contacts.tenantId, t.tenant.tenantId), eq(contacts.phoneNumber, blocked)));
    const live = listen([t.tenant.tenantId]);
    const before = await batchMetrics();
    const mmsSid = fakeSid('MM');
    const media = [0, 1].map((i) => ({
      url: `${fake.url}/2010-04-01/Accounts/${t.account.accountSid}/Messages/${mmsSid}/Media/ME${String(i).repeat(32)}`,
      contentType: 'image/png',
    }));
    const unknownTo = randomUsNumber('212');
    const unknownSid = fakeSid('SM');
    const send = (from: string, body: string, extra: { to?: string; messageSid?: string; media?: typeof media } = {}) =>
      sendInbound(server, t.account, { from, to: extra.to ?? t.number.e164, body, messageSid: extra.messageSid, media: extra.media });
    const answers = await Promise.all([
      send(fresh, 'first time'),
      send(existing, 'again'),
      send(twice, 'one'),
      send(twice, 'two'),
      send(stopper, 'STOP'),
      send(blocked, 'let me in'),
      send(mms, '', { messageSid: mmsSid, media }),
      send(randomUsNumber(), 'to a number not ours', { to: unknownTo, messageSid: unknownSid }),
    ]);
    for (const res of answers) expect(res.status).toBe(200);
    const d = delta(before, await batchMetrics());
    expect(d.over4).toBeGreaterThanOrEqual(1);
    expect(d.fallbacks).toBe(0);

    const tenantId = t.tenant.tenantId;
    const convOf = async (phone: string) => {
      const contact = (await contactOf(server, tenantId, phone))!;
      const convs = (await conversationsOf(server, tenantId)).filter((c) => c.contactId === contact.id);
      expect(convs).toHaveLength(1);
      const msgs = (await messagesOf(server, tenantId)).filter((m) => m.conversationId === convs[0]!.id);
      return { contact, conv: convs[0]!, msgs };
    };
    const f = await convOf(fresh);
    expect(f.conv).toMatchObject({ status: 'OPEN', unreadCount: 1, lastMessageId: f.msgs[0]!.id });
    const e = await convOf(existing);
    expect(e.conv.unreadCount).toBe(2);
    expect(e.conv.lastMessageId).toBe(e.msgs.find((m) => m.body === 'again')!.id);
    // Same contact twice: successive statements, both counted, the later one last.
    const w = await convOf(twice);
    expect(w.msgs.map((m) => m.body).sort()).toEqual(['one', 'two']);
    expect(w.conv.unreadCount).toBe(2);
    expect(w.msgs.map((m) => m.id)).toContain(w.conv.lastMessageId);
    const s = await convOf(stopper);
    expect(s.contact.optedOut).toBe(true);
    expect(s.contact.optedOutAt).not.toBeNull();
    const k = await convOf(blocked);
    expect(k.msgs.map((m) => m.body)).toEqual(['earlier', 'let me in']);
    expect(k.conv.unreadCount).toBe(1);
    const m = await convOf(mms);
    expect(m.msgs[0]!.media).toHaveLength(2);
    const jobs = await dbOf(server).select().from(mediaCopyJobs).where(eq(mediaCopyJobs.messageId, m.msgs[0]!.id));
    expect(jobs.map((j) => j.mediaIndex).sort()).toEqual([0, 1]);
    expect(await dbOf(server).select().from(unroutedMessages).where(eq(unroutedMessages.twilioSid, unknownSid))).toHaveLength(1);

    // Live events: one per stored text, none for the blocked contact's; the new conversation opened.
    const marker = randomUsNumber();
    await textAlone(t, marker, 'marker');
    const markerConv = (await convOf(marker)).conv.id;
    await waitFor(() => live.events.get(tenantId)!.some((ev) => ev.conversationId === markerConv), { what: 'the marker event', timeoutMs: 20_000 });
    await live.stop();
    const got = live.events.get(tenantId)!;
    // (Events of the texts sent before the batch may still arrive: only the batch's are counted.)
    const blockedText = k.msgs.find((msg) => msg.body === 'let me in')!.id;
    expect(got.filter((ev) => ev.id === blockedText)).toEqual([]);
    const batchTexts = new Set([...f.msgs, ...e.msgs.filter((msg) => msg.body === 'again'), ...w.msgs, ...s.msgs.filter((msg) => msg.body === 'STOP'), ...m.msgs].map((msg) => msg.id));
    expect(batchTexts.size).toBe(6);
    expect(got.filter((ev) => ev.type === 'messageAdded' && batchTexts.has(ev.id))).toHaveLength(6);
    expect(got.some((ev) => ev.type === 'contactUpdated' && ev.id === s.contact.id)).toBe(true);
  });

  it('a batch without media (the lean statement) hands its blocked contacts to the full one: their texts stored as when alone, the rest untouched', async () => {
    const t = await tenantWithNumber(server, fake);
    const tenantId = t.tenant.tenantId;
    const blockedKnown = randomUsNumber();
    const blockedNew = randomUsNumber();
    const neighbour = randomUsNumber();
    await textAlone(t, blockedKnown, 'earlier');
    await textAlone(t, neighbour, 'earlier');
    // A contact blocked before ever texting: a contact row without any conversation.
    await dbOf(server).insert(contacts).values({ tenantId, phoneNumber: blockedNew, blocked: true });
    await dbOf(server)
      .update(contacts)
      .set({ blocked: true })
      .where(and(eq(contacts.tenantId, tenantId), eq(contacts.phoneNumber, blockedKnown)));
    const live = listen([tenantId]);
    const before = await batchMetrics();
    const send = (from: string, body: string, extra?: Record<string, string | undefined>) =>
      sendInbound(server, t.account, { from, to: t.number.e164, body, extra });
    const answers = await Promise.all([
      send(blockedKnown, 'STOP', { FromCity: 'TULSA', FromState: 'OK' }),
      send(blockedNew, 'hello?'),
      send(neighbour, 'still there?'),
      send(randomUsNumber(), 'new here'),
      send(randomUsNumber(), 'me too'),
    ]);
    for (const res of answers) expect(res.status).toBe(200);
    const d = delta(before, await batchMetrics());
    expect(d.over4).toBeGreaterThanOrEqual(1);
    expect(d.fallbacks).toBe(0);

    const all = await messagesOf(server, tenantId);
    const convs = await conversationsOf(server, tenantId);
    const threadOf = async (phone: string) => {
      const contact = (await contactOf(server, tenantId, phone))!;
      const own = convs.filter((c) => c.contactId === contact.id);
      expect(own).toHaveLength(1);
      return { contact, conv: own[0]!, msgs: all.filter((m) => m.conversationId === own[0]!.id) };
    };
    // The known blocked contact: the text joins their conversation, unread unchanged; STOP and the
    // location applied once (the lean statement had already upserted the contact).
    const known = await threadOf(blockedKnown);
    expect(known.msgs.map((m) => m.body)).toEqual(['earlier', 'STOP']);
    expect(known.conv.unreadCount).toBe(1);
    expect(known.conv.lastMessageId).toBe(known.msgs[1]!.id);
    expect(known.contact).toMatchObject({ blocked: true, optedOut: true, city: 'TULSA', state: 'OK' });
    expect(known.contact.optedOutAt).not.toBeNull();
    // The blocked contact without a conversation: a new RESOLVED one, nothing unread.
    const fresh = await threadOf(blockedNew);
    expect(fresh.msgs.map((m) => m.body)).toEqual(['hello?']);
    expect(fresh.conv).toMatchObject({ status: 'RESOLVED', unreadCount: 0 });
    // Each text stored once, the neighbours' as usual.
    expect(all.filter((m) => ['STOP', 'hello?', 'still there?', 'new here', 'me too'].includes(m.body))).toHaveLength(5);
    const n = await threadOf(neighbour);
    expect(n.conv.unreadCount).toBe(2);

    // Live: the neighbours' texts, none of the blocked contacts'.
    const marker = randomUsNumber();
    await textAlone(t, marker, 'marker');
    const markerContact = (await contactOf(server, tenantId, marker))!;
    const markerConv = (await conversationsOf(server, tenantId)).find((c) => c.contactId === markerContact.id)!.id;
    await waitFor(() => live.events.get(tenantId)!.some((ev) => ev.conversationId === markerConv), { what: 'the marker event', timeoutMs: 20_000 });
    await live.stop();
    const got = live.events.get(tenantId)!;
    const blockedTexts = new Set([...known.msgs, ...fresh.msgs].map((m) => m.id));
    expect(got.filter((ev) => blockedTexts.has(ev.id))).toEqual([]);
    const others = all.filter((m) => ['still there?', 'new here', 'me too'].includes(m.body)).map((m) => m.id);
    for (const id of others) expect(got.some((ev) => ev.type === 'messageAdded' && ev.id === id)).toBe(true);
  });

  it('reports per text what routing and automations act on: opened, contact, blocked (the batcher, on the real database)', async () => {
    const t = await tenantWithNumber(server, fake);
    const known = randomUsNumber();
    await textAlone(t, known, 'earlier');
    const item = (from: string) => ({
      tenantId: t.tenant.tenantId,
      accountId: t.account.id,
      messageId: randomUUID(),
      sms: parseInboundSms(inboundSmsParams({ accountSid: t.account.accountSid, from, to: t.number.e164, body: 'hi' }), { mediaEnabled: true, acceptedMediaTypes: [] }),
      copyMedia: 0,
    });
    const newcomer = randomUsNumber();
    const before = await batchMetrics();
    const [first, second, again] = await Promise.all([item(newcomer), item(newcomer), item(known)].map((i) => server.app.deps.ingest.ingest(i)));
    expect(delta(before, await batchMetrics()).sum).toBe(3);
    // The newcomer's first text opened its conversation; the second (next statement) joined it.
    expect([first!.opened, second!.opened].sort()).toEqual([false, true]);
    expect(first!.conversationId).toBe(second!.conversationId);
    expect(first!.contactId).toBe(second!.contactId);
    expect(again).toMatchObject({ opened: false, contactBlocked: false, teamId: null, answerable: false });
    expect(again!.contactId).toBe((await contactOf(server, t.tenant.tenantId, known))!.id);
  });
});
