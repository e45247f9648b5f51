import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/client.js';
import { startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { setUpInbox, type Inbox } from '../helpers/inbox.js';
import { fold, searchSeedStatements } from '../helpers/search-seed.js';
import { errorCode, startTestServer, type GqlResult, type TestServer } from '../helpers/test-server.js';

// A seeded tenant (and a second one with the very same texts: any leak across tenants shows),
// searched through the API page by page and compared with what a plain scan of the data says.
const CONVERSATIONS = 300;
// 2,400 messages: more than the 2,000 matches above which a search walks the inbox instead (both ways are tested).
const PER_CONVERSATION = 8;

let server: TestServer;
let fake: FakeTwilio;
let a: Inbox;
let b: Inbox;
let bodies: Map<string, string[]>;
let contactsOf: Map<string, { name: string; phone: string }>;
let activityOrder: string[];

beforeAll(async () => {
  [server, fake] = await Promise.all([startTestServer({ DISPATCHER_ENABLED: 'false' }), startFakeTwilio()]);
  [a, b] = await Promise.all([setUpInbox(server, fake, { tenantName: 'Search A' }), setUpInbox(server, fake, { tenantName: 'Search B' })]);
  const db = server.app.deps.db;
  for (const [inbox, numberOffset] of [[a, 0], [b, 500_000]] as const) {
    const statements = searchSeedStatements({
      tenantId: inbox.tenant.tenantId,
      phoneNumberId: inbox.number.id,
      twilioAccountId: inbox.account.id,
      conversations: CONVERSATIONS,
      messagesPerConversation: PER_CONVERSATION,
      numberOffset,
    });
    for (const statement of statements) await db.execute(sql.raw(statement));
  }
  await db.execute(sql`analyze`);
  const t = a.tenant.tenantId;
  bodies = new Map();
  for (const m of rowsOf<{ conversation_id: string; body: string }>(await db.execute(sql`select conversation_id, body from messages where tenant_id = ${t}::uuid`))) {
    bodies.set(m.conversation_id, [...(bodies.get(m.conversation_id) ?? []), m.body]);
  }
  contactsOf = new Map(
    rowsOf<{ id: string; name: string; phone: string }>(
      await db.execute(sql`select c.id, k.name, k.phone_number as phone from conversations c join contacts k on k.id = c.contact_id where c.tenant_id = ${t}::uuid`),
    ).map((r) => [r.id, { name: r.name, phone: r.phone }]),
  );
  activityOrder = rowsOf<{ id: string }>(
    await db.execute(sql`select id from conversations where tenant_id = ${t}::uuid order by last_message_at desc, id desc`),
  ).map((r) => r.id);
  expect(activityOrder).toHaveLength(CONVERSATIONS);
}, 120_000);
afterAll(async () => {
  await Promise.all([server?.close(), fake?.close()]);
});

/** What the search must answer, computed without the database's help. */
function expected(term: string): string[] {
  const text = term.trim().replace(/\s+/g, ' ');
  const folded = fold(text);
  const digits = /^[\d\s()+\-.]+$/.test(text) ? text.replace(/\D/g, '') : '';
  return activityOrder.filter((id) => {
    const contact = contactsOf.get(id)!;
    return (
      (bodies.get(id) ?? []).some((body) => fold(body).includes(folded)) ||
      fold(contact.name).includes(folded) ||
      (digits.length >= 2 && contact.phone.includes(digits))
    );
  });
}

const SEARCH = `query($search: String, $label: String, $first: Int, $after: String) {
  conversations(search: $search, label: $label, first: $first, after: $after) {
    edges { node { id } }
    pageInfo { hasNextPage endCursor }
  }
}`;

async function searchAll(token: string, vars: Record<string, unknown>): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (let page = 0; page < 20; page++) {
    const res: GqlResult<any> = await server.gql(SEARCH, { ...vars, first: 50, after }, token);
    expect(res.errors, JSON.stringify(vars)).toBeUndefined();
    const connection: { edges: Array<{ node: { id: string } }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } } = res.data!.conversations;
    ids.push(...connection.edges.map((e: { node: { id: string } }) => e.node.id));
    if (!connection.pageInfo.hasNextPage) return ids;
    after = connection.pageInfo.endCursor;
  }
  throw new Error('more than 20 pages');
}

describe('conversations(search)', () => {
  it.each([
    ['a word inside texts (substring)', 'topic123'],
    ['case-insensitively', 'TOPIC42'],
    ['accent-insensitively, either way', 'CAFE'],
    ['an accented term', 'brûlée'],
    ['a phrase with spaces', 'about topic7'],
    ['the contact’s name', 'zoë 1'],
    ['the name without its accent', 'ZOE 29'],
    ['a number typed with punctuation', '(628) 000-01'],
    ['a number fragment with +', '+1628000020'],
    ['LIKE’s own characters as text', '5%'],
    ['an underscore as text', 'topic_1'],
    ['a term nobody wrote', 'no such words'],
    ['a word in every text (the dense way)', 'HELLO'],
    ['a substring in most texts', 'topic'],
  ])('finds %s: every expected conversation, most recent first, nothing from the other tenant', async (_what, term) => {
    const want = expected(term);
    const got = await searchAll(a.tenant.token, { search: term });
    expect(got).toEqual(want);
    // The other tenant has the same texts with other ids: none of A's ids, and its own answers.
    const theirs = await searchAll(b.tenant.token, { search: term });
    expect(theirs.filter((id) => activityOrder.includes(id))).toEqual([]);
    if (!/\d{3}/.test(term)) expect(theirs).toHaveLength(want.length);
  });

  it('the seeded data exercises every kind of match (the test cannot pass empty)', () => {
    expect(expected('topic123').length).toBeGreaterThan(5);
    expect(expected('CAFE').length).toBeGreaterThan(5);
    expect(expected('zoë 1').length).toBeGreaterThan(2);
    expect(expected('(628) 000-01').length).toBe(100); // +1628 000 01xx
    expect(expected('5%')).toEqual([]);
    expect(expected('HELLO')).toHaveLength(CONVERSATIONS);
  });

  it('needs at least 2 characters (BAD_USER_INPUT), at most 100', async () => {
    for (const search of ['', ' ', 'a', '  b  ', 'x'.repeat(101), 'ab\u0000']) {
      expect(errorCode(await server.gql(SEARCH, { search }, a.tenant.token)), JSON.stringify(search)).toBe('BAD_USER_INPUT');
    }
  });

  it('combines with status and label filters', async () => {
    const term = 'topic12';
    const matches = expected(term);
    const labelled = matches.filter((_, i) => i % 2 === 0).slice(0, 8);
    for (const id of labelled) {
      const res = await server.gql(`mutation($c: ID!) { setConversationLabels(conversationId: $c, labels: ["VIP"]) { id } }`, { c: id }, a.tenant.token);
      expect(res.errors).toBeUndefined();
    }
    // A labelled conversation outside the search must not come back.
    const outside = activityOrder.find((id) => !matches.includes(id))!;
    await server.gql(`mutation($c: ID!) { setConversationLabels(conversationId: $c, labels: ["vip"]) { id } }`, { c: outside }, a.tenant.token);
    expect(await searchAll(a.tenant.token, { search: term, label: 'Vip' })).toEqual(activityOrder.filter((id) => labelled.includes(id)));
    // A term in every text with a label: the dense way, filtered.
    expect(await searchAll(a.tenant.token, { search: 'hello', label: 'VIP' })).toEqual(activityOrder.filter((id) => labelled.includes(id) || id === outside));
    expect(await searchAll(a.tenant.token, { label: ' vip ' })).toEqual(activityOrder.filter((id) => labelled.includes(id) || id === outside));
    const resolved = await server.gql(
      `query($s: String) { conversations(search: $s, status: RESOLVED) { edges { node { id } } } }`,
      { s: term },
      a.tenant.token,
    );
    expect(resolved.data!.conversations.edges).toEqual([]);
  });
});
