import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationLabels, conversations, messages, notes } from '../../src/db/schema.js';
import { createAgent } from '../helpers/factories.js';
import { startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { customerTexts, randomUsNumber, setUpInbox, type Inbox } from '../helpers/inbox.js';
import { collect } from '../helpers/live.js';
import { errorCode, startTestServer, type TestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';

let server: TestServer;
let fake: FakeTwilio;
let a: Inbox;
let b: Inbox;

beforeAll(async () => {
  [server, fake] = await Promise.all([startTestServer({ DISPATCHER_ENABLED: 'false' }), startFakeTwilio()]);
  [a, b] = await Promise.all([setUpInbox(server, fake, { tenantName: 'Labels A' }), setUpInbox(server, fake, { tenantName: 'Labels B' })]);
});
afterAll(async () => {
  await Promise.all([server?.close(), fake?.close()]);
});

const db = () => server.app.deps.db;
const SET = `mutation($c: ID!, $labels: [String!]!) { setConversationLabels(conversationId: $c, labels: $labels) { id labels } }`;

async function labelRows(conversationId: string) {
  return db().select().from(conversationLabels).where(eq(conversationLabels.conversationId, conversationId));
}

describe('labels', () => {
  let conversationId: string;
  beforeAll(async () => {
    conversationId = await customerTexts(server, a, randomUsNumber(), 'hello');
  });

  it('replaces the labels: trimmed, case-insensitive duplicates folded, in the order given', async () => {
    const res = await server.gql(SET, { c: conversationId, labels: ['  Billing ', 'urgent', 'BILLING', 'Follow   up'] }, a.tenant.token);
    expect(res.errors).toBeUndefined();
    expect(res.data!.setConversationLabels.labels).toEqual(['Billing', 'urgent', 'Follow up']);
    const read = await server.gql(`query($c: ID!) { conversation(id: $c) { labels } }`, { c: conversationId }, a.tenant.token);
    expect(read.data!.conversation.labels).toEqual(['Billing', 'urgent', 'Follow up']);
    expect((await server.gql(SET, { c: conversationId, labels: ['Done'] }, a.tenant.token)).data!.setConversationLabels.labels).toEqual(['Done']);
    expect((await server.gql(SET, { c: conversationId, labels: [] }, a.tenant.token)).data!.setConversationLabels.labels).toEqual([]);
  });

  it('20 labels of 50 characters pass; 21, 51 characters or a blank one are BAD_USER_INPUT and change nothing', async () => {
    const twenty = Array.from({ length: 20 }, (_, i) => `${i}`.padEnd(50, 'x'));
    expect((await server.gql(SET, { c: conversationId, labels: twenty }, a.tenant.token)).data!.setConversationLabels.labels).toHaveLength(20);
    for (const labels of [[...twenty, 'one more'], ['y'.repeat(51)], ['ok', '   '], ['nul\u0000byte']]) {
      expect(errorCode(await server.gql(SET, { c: conversationId, labels }, a.tenant.token))).toBe('BAD_USER_INPUT');
    }
    // 21 spellings of 20 labels is fine: duplicates fold before counting.
    expect(errorCode(await server.gql(SET, { c: conversationId, labels: [...twenty, twenty[0]!.toUpperCase()] }, a.tenant.token))).toBeUndefined();
    expect((await labelRows(conversationId)).map((r) => r.label).sort()).toEqual([...twenty].sort());
  });

  it('another tenant’s conversation is NOT_FOUND and keeps its labels', async () => {
    await server.gql(SET, { c: conversationId, labels: ['mine'] }, a.tenant.token);
    expect(errorCode(await server.gql(SET, { c: conversationId, labels: ['theirs'] }, b.tenant.token))).toBe('NOT_FOUND');
    expect(errorCode(await server.gql(SET, { c: 'not-an-id', labels: ['x'] }, a.tenant.token))).toBe('NOT_FOUND');
    expect((await labelRows(conversationId)).map((r) => r.label)).toEqual(['mine']);
    // The label filter does not cross tenants either.
    const theirs = await server.gql(`query { conversations(label: "mine") { edges { node { id } } } }`, {}, b.tenant.token);
    expect(theirs.data!.conversations.edges).toEqual([]);
    expect(errorCode(await server.gql(`query { conversations(label: "  ") { edges { node { id } } } }`, {}, a.tenant.token))).toBe('BAD_USER_INPUT');
  });

  it('labels of a whole page load in one query', async () => {
    for (let i = 0; i < 3; i++) {
      const c = await customerTexts(server, a, randomUsNumber(), `page ${i}`);
      await server.gql(SET, { c, labels: [`L${i}`, 'page'] }, a.tenant.token);
    }
    const stats = server.app.deps.database.stats;
    const query = `query { conversations(first: 50) { edges { node { id labels } } } }`;
    await server.gql(query, {}, a.tenant.token);
    const before = stats.statements;
    const res = await server.gql(query, {}, a.tenant.token);
    const statements = stats.statements - before;
    expect(res.data!.conversations.edges.length).toBeGreaterThanOrEqual(4);
    expect(statements).toBeLessThanOrEqual(2); // the page + the labels
  });
});

describe('notes', () => {
  const ADD = `mutation($c: ID!, $body: String!) { addNote(conversationId: $c, body: $body) { id conversationId body author { id name } createdAt } }`;
  const NOTES = `query($c: ID!, $first: Int, $after: String) { conversation(id: $c) { unreadCount notes(first: $first, after: $after) {
    edges { cursor node { id body author { id } } } pageInfo { hasNextPage hasPreviousPage endCursor } } } }`;

  it('adds internal notes (author = caller), oldest first, paged; never a message, never unread; publishes conversationUpdated', async () => {
    const conversationId = await customerTexts(server, a, randomUsNumber(), 'I need help');
    const agent = await createAgent(server, a.tenant.token);
    const live = collect(server.ws(a.tenant.token), `subscription { conversationUpdated { id notes { edges { node { body } } } } }`);
    await waitFor(() => server.app.deps.events.subscriberCount >= 1, { what: 'subscriber' });
    await new Promise((r) => setTimeout(r, 50));
    const messagesBefore = await db().select({ n: sql<number>`count(*)::int` }).from(messages).where(eq(messages.conversationId, conversationId));

    const first = await server.gql(ADD, { c: conversationId, body: '  Called them back  ' }, a.tenant.token);
    expect(first.errors).toBeUndefined();
    expect(first.data!.addNote).toMatchObject({ conversationId, body: 'Called them back', author: { id: a.tenant.userId, name: 'Ada Admin' } });
    for (let i = 2; i <= 5; i++) await server.gql(ADD, { c: conversationId, body: `note ${i}` }, i % 2 ? a.tenant.token : agent.token);
    const events = await live.waitForCount(5);
    expect(events.every((e) => e.id === conversationId)).toBe(true);
    expect(events.at(-1)!.notes.edges.map((e: { node: { body: string } }) => e.node.body)).toEqual(['Called them back', 'note 2', 'note 3', 'note 4', 'note 5']);

    const page1 = (await server.gql(NOTES, { c: conversationId, first: 2 }, agent.token)).data!.conversation;
    expect(page1.notes.edges.map((e: { node: { body: string } }) => e.node.body)).toEqual(['Called them back', 'note 2']);
    expect(page1.notes.edges[1].node.author.id).toBe(agent.id);
    expect(page1.notes.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const page2 = (await server.gql(NOTES, { c: conversationId, first: 2, after: page1.notes.pageInfo.endCursor }, agent.token)).data!.conversation;
    expect(page2.notes.edges.map((e: { node: { body: string } }) => e.node.body)).toEqual(['note 3', 'note 4']);
    const page3 = (await server.gql(NOTES, { c: conversationId, first: 2, after: page2.notes.pageInfo.endCursor }, agent.token)).data!.conversation;
    expect(page3.notes.edges.map((e: { node: { body: string } }) => e.node.body)).toEqual(['note 5']);
    expect(page3.notes.pageInfo.hasNextPage).toBe(false);

    // Not a message: nothing to send, no unread count, no match in search.
    const messagesAfter = await db().select({ n: sql<number>`count(*)::int` }).from(messages).where(eq(messages.conversationId, conversationId));
    expect(messagesAfter[0]!.n).toBe(messagesBefore[0]!.n);
    expect(page1.unreadCount).toBe(1);
    expect(fake.messageRequests.length).toBe(0);
    const found = await server.gql(`query { conversations(search: "called them back") { edges { node { id } } } }`, {}, a.tenant.token);
    expect(found.data!.conversations.edges).toEqual([]);
  });

  it('1 to 5,000 characters; bad input and other tenants’ conversations store nothing', async () => {
    const conversationId = await customerTexts(server, a, randomUsNumber(), 'hi');
    expect((await server.gql(ADD, { c: conversationId, body: 'n'.repeat(5000) }, a.tenant.token)).errors).toBeUndefined();
    expect(errorCode(await server.gql(ADD, { c: conversationId, body: 'n'.repeat(5001) }, a.tenant.token))).toBe('BAD_USER_INPUT');
    expect(errorCode(await server.gql(ADD, { c: conversationId, body: '   ' }, a.tenant.token))).toBe('BAD_USER_INPUT');
    expect(errorCode(await server.gql(ADD, { c: conversationId, body: 'a\u0000b' }, a.tenant.token))).toBe('BAD_USER_INPUT');
    expect(errorCode(await server.gql(ADD, { c: conversationId, body: 'sneaky' }, b.tenant.token))).toBe('NOT_FOUND');
    expect(errorCode(await server.gql(ADD, { c: conversationId, body: 'anonymous' }))).toBe('UNAUTHENTICATED');
    const rows = await db().select().from(notes).where(eq(notes.conversationId, conversationId));
    expect(rows.map((r) => r.body.length)).toEqual([5000]);
    const [conversation] = await db().select().from(conversations).where(eq(conversations.id, conversationId));
    expect(conversation!.unreadCount).toBe(1);
  });
});
