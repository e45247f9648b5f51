import { provisionOnFake } from '../helpers/twilio-setup.js';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contacts, messages } from '../../src/db/schema.js';
import { createAgent } from '../helpers/factories.js';
import { fakeSid, startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { customerTexts, randomUsNumber, setUpInbox, type Inbox } from '../helpers/inbox.js';
import { collect } from '../helpers/live.js';
import { errorCode, startTestServer, type TestServer } from '../helpers/test-server.js';
import { sendInbound, sendStatus } from '../helpers/twilio-setup.js';
import { waitFor } from '../helpers/wait.js';

let server: TestServer;
let fake: FakeTwilio;
let a: Inbox;
let b: Inbox;

beforeAll(async () => {
  [server, fake] = await Promise.all([startTestServer({ DISPATCHER_ENABLED: 'false' }), startFakeTwilio()]);
  [a, b] = await Promise.all([setUpInbox(server, fake, { tenantName: 'Contacts A' }), setUpInbox(server, fake, { tenantName: 'Contacts B' })]);
});
afterAll(async () => {
  await Promise.all([server?.close(), fake?.close()]);
});

const db = () => server.app.deps.db;

async function text(inbox: Inbox, from: string, body: string) {
  const res = await sendInbound(server, inbox.account, { from, to: inbox.number.e164, body });
  expect(res.status).toBe(200);
}

async function contactIdOf(inbox: Inbox, phone: string): Promise<string> {
  const [row] = await db()
    .select({ id: contacts.id })
    .from(contacts)
    .where(and(eq(contacts.tenantId, inbox.tenant.tenantId), eq(contacts.phoneNumber, phone)));
  return row!.id;
}

const CONTACTS = `query($first: Int, $after: String, $search: String) {
  contacts(first: $first, after: $after, search: $search) {
    edges { cursor node { id phoneNumber name optedOut blocked city state zip country lastActivityAt } }
    pageInfo { hasNextPage endCursor }
  }
}`;

type ContactNode = { id: string; phoneNumber: string; name: string | null; blocked: boolean; city: string | null };

async function listContacts(token: string, vars: Record<string, unknown> = {}): Promise<ContactNode[]> {
  const res = await server.gql(CONTACTS, { first: 100, ...vars }, token);
  expect(res.errors).toBeUndefined();
  return res.data!.contacts.edges.map((e: { node: ContactNode }) => e.node);
}

async function rename(token: string, id: string, name: string | null) {
  return server.gql(`mutation($id: ID!, $name: String) { updateContact(id: $id, input: { name: $name }) { id name } }`, { id, name }, token);
}

describe('contacts', () => {
  const zoe = randomUsNumber('415');
  const other = randomUsNumber('212');
  const latest = randomUsNumber('628');

  beforeAll(async () => {
    await text(a, zoe, 'hi');
    await text(a, other, 'hello');
    await text(a, latest, 'newest');
    await text(b, zoe, 'same number, other tenant');
  });

  it('lists the tenant’s contacts most recently active first, with the geo Twilio gave', async () => {
    const list = await listContacts(a.tenant.token);
    expect(list.map((c) => c.phoneNumber)).toEqual([latest, other, zoe]);
    expect(list[0]).toMatchObject({ city: 'SAN FRANCISCO', blocked: false });
    // Activity moves: zoe texts again and comes first.
    await text(a, zoe, 'me again');
    expect((await listContacts(a.tenant.token)).map((c) => c.phoneNumber)).toEqual([zoe, latest, other]);
  });

  it('pages with a keyset cursor, each contact once', async () => {
    const first = await server.gql(CONTACTS, { first: 2 }, a.tenant.token);
    expect(first.data!.contacts.pageInfo.hasNextPage).toBe(true);
    const rest = await server.gql(CONTACTS, { first: 2, after: first.data!.contacts.pageInfo.endCursor }, a.tenant.token);
    const ids = [...first.data!.contacts.edges, ...rest.data!.contacts.edges].map((e: { node: { id: string } }) => e.node.id);
    expect(new Set(ids).size).toBe(3);
    expect(rest.data!.contacts.pageInfo.hasNextPage).toBe(false);
    expect(errorCode(await server.gql(CONTACTS, { after: 'not-a-cursor' }, a.tenant.token))).toBe('BAD_USER_INPUT');
  });

  it('finds a contact by its number however it is typed, and by name ignoring case and accents', async () => {
    const id = await contactIdOf(a, zoe);
    expect((await rename(a.tenant.token, id, 'Zoë Ångström')).errors).toBeUndefined();
    const national = zoe.slice(2); // 10 digits
    for (const search of [`(${national.slice(0, 3)}) ${national.slice(3, 6)}-${national.slice(6)}`, `+1${national.slice(0, 3)}`, national.slice(3, 8), 'zoe', 'ANGSTROM', 'zoë å']) {
      const found = await listContacts(a.tenant.token, { search });
      expect(found.map((c) => c.id), search).toContain(id);
      expect(found.every((c) => c.phoneNumber.includes(search.replace(/\D/g, '')) || c.name), search).toBe(true);
    }
    expect(await listContacts(a.tenant.token, { search: 'nobody here' })).toEqual([]);
    // Not another tenant's contact with the same number.
    expect((await listContacts(b.tenant.token, { search: 'zoe' })).length).toBe(0);
    for (const search of ['', ' ', 'z', ' 4 ', 'x'.repeat(101)]) {
      expect(errorCode(await server.gql(CONTACTS, { search }, a.tenant.token)), JSON.stringify(search)).toBe('BAD_USER_INPUT');
    }
  });

  it('contact(id) answers the tenant’s own contact only', async () => {
    const id = await contactIdOf(a, other);
    const own = await server.gql(`query($id: ID!) { contact(id: $id) { id phoneNumber conversations { edges { node { id } } } } }`, { id }, a.tenant.token);
    expect(own.data!.contact).toMatchObject({ id, phoneNumber: other });
    expect(own.data!.contact.conversations.edges).toHaveLength(1);
    const foreign = await server.gql(`query($id: ID!) { contact(id: $id) { id } }`, { id }, b.tenant.token);
    expect(foreign.errors).toBeUndefined();
    expect(foreign.data!.contact).toBeNull();
    expect((await server.gql(`query { contact(id: "nope") { id } }`, {}, a.tenant.token)).data!.contact).toBeNull();
  });

  it('updateContact: name up to 200 characters, blank or null clears; bad input stores nothing', async () => {
    const id = await contactIdOf(a, other);
    expect((await rename(a.tenant.token, id, '  Olga  ')).data!.updateContact.name).toBe('Olga');
    const tooLong = await rename(a.tenant.token, id, 'x'.repeat(201));
    expect(errorCode(tooLong)).toBe('BAD_USER_INPUT');
    expect(errorCode(await rename(a.tenant.token, id, 'Ol\u0000ga'))).toBe('BAD_USER_INPUT');
    expect((await rename(a.tenant.token, id, 'y'.repeat(200))).data!.updateContact.name).toHaveLength(200);
    expect((await rename(a.tenant.token, id, '   ')).data!.updateContact.name).toBeNull();
    expect((await rename(a.tenant.token, id, 'Olga')).data!.updateContact.name).toBe('Olga');
    expect((await rename(a.tenant.token, id, null)).data!.updateContact.name).toBeNull();
    // Omitted name stays.
    await rename(a.tenant.token, id, 'Olga');
    const blockedOnly = await server.gql(`mutation($id: ID!) { updateContact(id: $id, input: { blocked: false }) { name } }`, { id }, a.tenant.token);
    expect(blockedOnly.data!.updateContact.name).toBe('Olga');
    // Another tenant's contact is NOT_FOUND and unchanged.
    expect(errorCode(await rename(b.tenant.token, id, 'Hacked'))).toBe('NOT_FOUND');
    const [row] = await db().select().from(contacts).where(eq(contacts.id, id));
    expect(row!.name).toBe('Olga');
    // An agent may edit contacts too.
    const agent = await createAgent(server, a.tenant.token);
    expect((await rename(agent.token, id, 'Olga K')).data!.updateContact.name).toBe('Olga K');
  });

  it('publishes contactUpdated on name, block and opt-out changes, to the contact’s tenant only', async () => {
    const phone = randomUsNumber();
    await text(a, phone, 'hello');
    const id = await contactIdOf(a, phone);
    const sub = `subscription { contactUpdated { id name blocked optedOut } }`;
    const subscribers = server.app.deps.events.subscriberCount;
    const liveA = collect(server.ws(a.tenant.token), sub);
    const liveB = collect(server.ws(b.tenant.token), sub);
    await waitFor(() => server.app.deps.events.subscriberCount >= subscribers + 2, { what: 'two subscribers' });
    await new Promise((r) => setTimeout(r, 50));
    // One change at a time: an event carries the id and subscribers read the row as it is then.
    await rename(a.tenant.token, id, 'Pat');
    await liveA.waitForCount(1);
    await server.gql(`mutation($id: ID!) { updateContact(id: $id, input: { blocked: true }) { id } }`, { id }, a.tenant.token);
    await liveA.waitForCount(2);
    await server.gql(`mutation($id: ID!) { updateContact(id: $id, input: { blocked: false }) { id } }`, { id }, a.tenant.token);
    await liveA.waitForCount(3);
    await text(a, phone, ' STOP ');
    const events = await liveA.waitForCount(4);
    expect(events).toEqual([
      { id, name: 'Pat', blocked: false, optedOut: false },
      { id, name: 'Pat', blocked: true, optedOut: false },
      { id, name: 'Pat', blocked: false, optedOut: false },
      { id, name: 'Pat', blocked: false, optedOut: true },
    ]);
    expect(liveB.events).toEqual([]);

    // Twilio's 21610 on a reply (the customer opted out through the carrier) publishes it too.
    const other = randomUsNumber();
    const conversationId = await customerTexts(server, a, other, 'hi');
    const otherId = await contactIdOf(a, other);
    const sent = await server.gql(`mutation($c: ID!) { sendMessage(input: { conversationId: $c, body: "hello" }) { id } }`, { c: conversationId }, a.tenant.token);
    const res = await sendStatus(server, a.account, {
      messageId: sent.data!.sendMessage.id,
      messageSid: fakeSid('SM'),
      status: 'failed',
      errorCode: 21610,
      from: a.number.e164,
      to: other,
    });
    expect(res.status).toBe(200);
    const more = await liveA.waitForCount(5);
    expect(more[4]).toEqual({ id: otherId, name: null, blocked: false, optedOut: true });
  });
});

describe('blocked contacts', () => {
  const CONVERSATIONS = `query { conversations(first: 100) { edges { node { id status unreadCount contact { phoneNumber } } } } }`;

  it('3 texts → stored, 0 conversations, 0 live events; replies refused; unblock → in the contact’s history', async () => {
    const inbox = await setUpInbox(server, fake, { tenantName: 'Blocking Co' });
    const spammer = randomUsNumber();
    // Known already, with an open conversation: blocking resolves it.
    const openId = await customerTexts(server, inbox, spammer, 'first, before the block');
    const id = await contactIdOf(inbox, spammer);
    const subscribers = server.app.deps.events.subscriberCount;
    const live = collect(server.ws(inbox.tenant.token), `subscription { messageAdded { id body } }`);
    const liveConversations = collect(server.ws(inbox.tenant.token), `subscription { conversationUpdated { id status } }`);
    const removals = collect(server.ws(inbox.tenant.token), `subscription { conversationRemoved }`);
    await waitFor(() => server.app.deps.events.subscriberCount >= subscribers + 3, { what: 'subscribers' });
    await new Promise((r) => setTimeout(r, 50));

    const blocked = await server.gql(
      `mutation($id: ID!) { updateContact(id: $id, input: { blocked: true }) { id blocked } }`,
      { id },
      inbox.tenant.token,
    );
    expect(blocked.data!.updateContact).toEqual({ id, blocked: true });
    // The block resolves the open conversation, and says so.
    expect(await liveConversations.waitForCount(1)).toEqual([{ id: openId, status: 'RESOLVED' }]);
    // ...and dashboards drop it from their lists.
    expect(await removals.waitForCount(1)).toEqual([openId]);

    // A constant two statements per text (the account is cached by now): the lean ingest statement
    // meets the block and declines the text, the full one stores it. The counter is the server's:
    // a background poll (outbox, webhook deliveries, sweeps) can land inside one text's count,
    // never inside all three, so the fewest is the text's own.
    const stats = server.app.deps.database.stats;
    const counts: number[] = [];
    for (const body of ['spam 1', 'spam 2', 'spam 3']) {
      const before = stats.statements;
      await text(inbox, spammer, body);
      counts.push(stats.statements - before);
    }
    expect(Math.min(...counts)).toBe(2);
    // A marker from someone else, sent after: once its event is here, the spam's would have been too.
    const friend = randomUsNumber();
    await text(inbox, friend, 'marker');
    await live.waitForCount(1);
    await liveConversations.waitForCount(2);
    expect(live.events.map((e) => e.body)).toEqual(['marker']);
    expect(liveConversations.events).toHaveLength(2);
    expect(liveConversations.events[1]!.id).not.toBe(openId);

    // Stored: nothing lost, in the contact's (resolved) conversation, no unread count.
    const stored = await db()
      .select({ body: messages.body, conversationId: messages.conversationId })
      .from(messages)
      .where(and(eq(messages.tenantId, inbox.tenant.tenantId), sql`${messages.body} like 'spam %'`));
    expect(stored.map((m) => m.body).sort()).toEqual(['spam 1', 'spam 2', 'spam 3']);
    expect(new Set(stored.map((m) => m.conversationId))).toEqual(new Set([openId]));

    // 0 conversations: the inbox shows only the friend's.
    const list = await server.gql(CONVERSATIONS, {}, inbox.tenant.token);
    expect(list.data!.conversations.edges.map((e: { node: { contact: { phoneNumber: string } } }) => e.node.contact.phoneNumber)).toEqual([friend]);
    const history = `query($id: ID!) { contact(id: $id) { blocked conversations { edges { node { id status unreadCount messages(first: 10) { edges { node { body } } } } } } } }`;
    expect((await server.gql(history, { id }, inbox.tenant.token)).data!.contact.conversations.edges).toEqual([]);

    // Replies and new conversations to a blocked contact: BAD_USER_INPUT, nothing stored or sent.
    const before = await db().select({ n: sql<number>`count(*)::int` }).from(messages).where(eq(messages.tenantId, inbox.tenant.tenantId));
    const reply = await server.gql(
      `mutation($c: ID!) { sendMessage(input: { conversationId: $c, body: "hello?" }) { id } }`,
      { c: openId },
      inbox.tenant.token,
    );
    expect(errorCode(reply)).toBe('BAD_USER_INPUT');
    const start = await server.gql(
      `mutation($n: ID!, $to: String!) { startConversation(input: { phoneNumberId: $n, to: $to, body: "hi" }) { id } }`,
      { n: inbox.number.id, to: spammer },
      inbox.tenant.token,
    );
    expect(errorCode(start)).toBe('BAD_USER_INPUT');
    const after = await db().select({ n: sql<number>`count(*)::int` }).from(messages).where(eq(messages.tenantId, inbox.tenant.tenantId));
    expect(after[0]!.n).toBe(before[0]!.n);

    // Unblock: the history is there, RESOLVED, with every text and no unread count.
    await server.gql(`mutation($id: ID!) { updateContact(id: $id, input: { blocked: false }) { id } }`, { id }, inbox.tenant.token);
    const unblocked = (await server.gql(history, { id }, inbox.tenant.token)).data!.contact;
    expect(unblocked.blocked).toBe(false);
    expect(unblocked.conversations.edges).toHaveLength(1);
    const conversation = unblocked.conversations.edges[0].node;
    expect(conversation).toMatchObject({ id: openId, status: 'RESOLVED', unreadCount: 1 });
    expect(conversation.messages.edges.map((e: { node: { body: string } }) => e.node.body)).toEqual(['spam 3', 'spam 2', 'spam 1', 'first, before the block']);
    // And the next text opens a conversation like anyone's.
    await text(inbox, spammer, 'sorry');
    const reopened = await server.gql(CONVERSATIONS, {}, inbox.tenant.token);
    const mine = reopened.data!.conversations.edges.filter((e: { node: { contact: { phoneNumber: string } } }) => e.node.contact.phoneNumber === spammer);
    expect(mine.map((e: { node: { status: string; unreadCount: number } }) => [e.node.status, e.node.unreadCount])).toEqual([
      ['OPEN', 1],
      ['RESOLVED', 1],
    ]);
  });

  it('a blocked number never seen before gets one RESOLVED conversation, created silently', async () => {
    const inbox = await setUpInbox(server, fake, { tenantName: 'Blocking New' });
    const spammer = randomUsNumber();
    await text(inbox, spammer, 'hello'); // creates the contact
    const id = await contactIdOf(inbox, spammer);
    // Resolve it, block, then text twice: both join the resolved conversation.
    const [conversationId] = (await server.gql(CONVERSATIONS, {}, inbox.tenant.token)).data!.conversations.edges.map((e: { node: { id: string } }) => e.node.id);
    await server.gql(`mutation($c: ID!) { setConversationStatus(conversationId: $c, status: RESOLVED) { id } }`, { c: conversationId }, inbox.tenant.token);
    await server.gql(`mutation($id: ID!) { updateContact(id: $id, input: { blocked: true }) { id } }`, { id }, inbox.tenant.token);
    await text(inbox, spammer, 'one');
    await text(inbox, spammer, 'two');
    const rows = await db().execute(sql`select status, unread_count from conversations where tenant_id = ${inbox.tenant.tenantId}::uuid`);
    const list = (Array.isArray(rows) ? rows : (rows as { rows: unknown[] }).rows) as Array<{ status: string; unread_count: number }>;
    expect(list).toEqual([{ status: 'RESOLVED', unread_count: 1 }]);
    // A second number of the same tenant: the blocked contact's first text there creates a RESOLVED conversation.
    const secondNumber = randomUsNumber();
    provisionOnFake(inbox.account.id, secondNumber);
    const second = await server.gql(
      `mutation($a: ID!, $p: String!) { addPhoneNumber(input: { twilioAccountId: $a, phoneNumber: $p }) { id e164 } }`,
      { a: inbox.account.id, p: secondNumber },
      inbox.tenant.token,
    );
    const number2 = second.data!.addPhoneNumber;
    await text({ ...inbox, number: number2 }, spammer, 'elsewhere');
    const after = await db().execute(sql`select status, unread_count, phone_number_id from conversations where tenant_id = ${inbox.tenant.tenantId}::uuid and phone_number_id = ${number2.id}::uuid`);
    const rows2 = (Array.isArray(after) ? after : (after as { rows: unknown[] }).rows) as Array<{ status: string; unread_count: number }>;
    expect(rows2.map((r) => [r.status, r.unread_count])).toEqual([['RESOLVED', 0]]);
  });
});
