import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAgent } from '../helpers/factories.js';
import type { FakeTwilio } from '../helpers/fake-twilio.js';
import { customerTexts, randomUsNumber, setUpInbox, type Inbox } from '../helpers/inbox.js';
import { activityOrder, seedConversations, type SeededConversation } from '../helpers/seed.js';
import { errorCode, type GqlResult, type TestServer } from '../helpers/test-server.js';
import { serverWithFakeTwilio } from '../helpers/suite.js';

let server: TestServer;
let fake: FakeTwilio;
let a: Inbox;
let b: Inbox;
let agent: { id: string; token: string };

// No dispatcher: nothing here sends, and its polling would add statements to the N+1 count.
serverWithFakeTwilio({ DISPATCHER_ENABLED: 'false' }, async (started) => {
  ({ server, fake } = started);
  [a, b] = await Promise.all([setUpInbox(server, fake), setUpInbox(server, fake, { tenantName: 'Other Co' })]);
  agent = await createAgent(server, a.tenant.token);
}, { resetFakeAfterEach: false });

const PAGE = `query($first: Int, $after: String, $status: ConversationStatus, $assigneeId: ID) {
  conversations(first: $first, after: $after, status: $status, assigneeId: $assigneeId) {
    edges { cursor node { id lastMessageAt } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

interface PageResult {
  edges: Array<{ cursor: string; node: { id: string } }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

describe('conversations pagination', () => {
  let seeded: SeededConversation[];
  let tenantId: string;

  beforeAll(async () => {
    const inbox = await setUpInbox(server, fake, { tenantName: 'Paged Inc' });
    tenantId = inbox.tenant.tenantId;
    seeded = await seedConversations(server.app.deps.db, {
      tenantId,
      phoneNumberId: inbox.number.id,
      twilioAccountId: inbox.account.id,
      count: 120,
      assigneeId: inbox.tenant.userId,
    });
    pagedToken = inbox.tenant.token;
  });
  let pagedToken: string;
  const token = () => pagedToken;

  it('walks 120 conversations with first: 50, each exactly once, most recent first', async () => {
    const seen: string[] = [];
    const pages: PageResult[] = [];
    let after: string | null = null;
    for (let i = 0; i < 10; i++) {
      const res: GqlResult<{ conversations: PageResult }> = await server.gql<{ conversations: PageResult }>(PAGE, { first: 50, after }, token());
      expect(res.errors).toBeUndefined();
      const page: PageResult = res.data!.conversations;
      pages.push(page);
      seen.push(...page.edges.map((e) => e.node.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(pages.map((p) => p.edges.length)).toEqual([50, 50, 20]);
    expect(pages.map((p) => p.pageInfo.hasNextPage)).toEqual([true, true, false]);
    expect(pages.map((p) => p.pageInfo.hasPreviousPage)).toEqual([false, true, true]);
    expect(pages[0]!.pageInfo.startCursor).toBe(pages[0]!.edges[0]!.cursor);
    expect(seen).toEqual(activityOrder(seeded));
    expect(new Set(seen).size).toBe(120);
  });

  it('keeps its place when new activity arrives between pages', async () => {
    const first = await server.gql<{ conversations: PageResult }>(PAGE, { first: 30 }, token());
    // The oldest conversation gets a new message: it jumps to the top, behind the cursor.
    const oldest = activityOrder(seeded).at(-1)!;
    await server.app.deps.db.execute(
      // Seeded times are in 2024: now() is later than all of them.
      sql`update conversations set last_message_at = now() where id = ${oldest}::uuid`,
    );
    const rest: string[] = [];
    let after = first.data!.conversations.pageInfo.endCursor;
    for (;;) {
      const res = await server.gql<{ conversations: PageResult }>(PAGE, { first: 50, after }, token());
      rest.push(...res.data!.conversations.edges.map((e) => e.node.id));
      if (!res.data!.conversations.pageInfo.hasNextPage) break;
      after = res.data!.conversations.pageInfo.endCursor;
    }
    const firstIds = first.data!.conversations.edges.map((e) => e.node.id);
    // Nothing from the first page repeats, and only the moved conversation is missing.
    expect(rest.filter((id) => firstIds.includes(id))).toEqual([]);
    expect(rest).toEqual(activityOrder(seeded).slice(30).filter((id) => id !== oldest));
  });

  it('refuses page sizes outside 1..100 and cursors it did not issue', async () => {
    for (const first of [0, -1, 101, 1000]) {
      const res = await server.gql(PAGE, { first }, token());
      expect(errorCode(res), `first: ${first}`).toBe('BAD_USER_INPUT');
    }
    const bad = await server.gql(PAGE, { first: 10, after: 'not-a-cursor' }, token());
    expect(errorCode(bad)).toBe('BAD_USER_INPUT');
    const ok = await server.gql<{ conversations: PageResult }>(PAGE, { first: 100 }, token());
    expect(ok.data!.conversations.edges).toHaveLength(100);
  });

  it('defaults to 20 per page', async () => {
    const res = await server.gql<{ conversations: PageResult }>(PAGE, {}, token());
    expect(res.data!.conversations.edges).toHaveLength(20);
  });

  it('runs a bounded number of SQL statements whatever the page size (no N+1)', async () => {
    const query = `query($first: Int) { conversations(first: $first) { edges { node {
      id status unreadCount lastMessageAt
      contact { id phoneNumber optedOut }
      phoneNumber { id e164 type }
      assignee { id name }
      lastMessage { id body direction status author { id } }
      messages(first: 3) { edges { node { id body } } pageInfo { hasNextPage } }
    } } } }`;
    const stats = server.app.deps.database.stats;
    const count = async (first: number) => {
      const before = stats.statements;
      const res = await server.gql<{ conversations: PageResult }>(query, { first }, token());
      expect(res.errors).toBeUndefined();
      expect(res.data!.conversations.edges).toHaveLength(first);
      return stats.statements - before;
    };
    // The counter is the server's: a background worker (the routing sweep at start, presence)
    // may add a statement during a request. An N+1 grows on every try; one try of three where
    // both page sizes cost the same proves there is none.
    let for5 = 0;
    let for50 = -1;
    for (let attempt = 0; attempt < 3 && for5 !== for50; attempt++) {
      for5 = await count(5);
      for50 = await count(50);
    }
    // The page with its contacts, numbers, assignees and last messages (one statement), then the
    // message pages, then their authors when any.
    expect(for50).toBeLessThanOrEqual(3);
    expect(for50).toBe(for5);
  });
});

describe('the inbox page reads its relations in its own statement', () => {
  let inbox: Inbox;
  let owner: { id: string; token: string };
  const RELATIONS = `id status unreadCount lastMessageAt
    contact { id phoneNumber name optedOut blocked city createdAt lastActivityAt }
    phoneNumber { id e164 type }
    assignee { id name email role }
    lastMessage { id body direction status source segments createdAt }`;
  // The relations through a fragment spread and an inline fragment, as clients write them.
  const LIST = `query($first: Int, $after: String) { conversations(first: $first, after: $after) {
      edges { cursor node { ...Row } } pageInfo { hasNextPage endCursor } } }
    fragment Row on Conversation { id ... on Conversation { ${RELATIONS} } }`;
  const ONE = `query($id: ID!) { conversation(id: $id) { ${RELATIONS} } }`;
  type Node = { id: string; assignee: { id: string } | null; lastMessage: { body: string } | null; contact: { phoneNumber: string } };
  type List = { conversations: { edges: Array<{ node: Node }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };

  beforeAll(async () => {
    inbox = await setUpInbox(server, fake, { tenantName: 'Joined Page Co' });
    owner = await createAgent(server, inbox.tenant.token);
    // Six customers; the agent holds every other conversation, the rest have no assignee.
    for (let i = 0; i < 6; i++) {
      const id = await customerTexts(server, inbox, randomUsNumber('415'), `question ${i}`);
      if (i % 2 === 0) {
        const res = await server.gql(`mutation($c: ID!, $u: ID) { assignConversation(conversationId: $c, assigneeId: $u) { id } }`, { c: id, u: owner.id }, inbox.tenant.token);
        expect(res.errors).toBeUndefined();
      }
    }
  });

  it('answers each conversation as it reads alone, page after page, for an admin and an agent, in one statement a page', async () => {
    const stats = server.app.deps.database.stats;
    for (const viewer of [inbox.tenant.token, owner.token]) {
      const nodes: Node[] = [];
      const statements: number[] = [];
      let after: string | null = null;
      do {
        // A background worker may add a statement during a request: the fewest of three tries is the page's.
        let fewest = Infinity;
        let page: List['conversations'] | undefined;
        for (let attempt = 0; attempt < 3 && fewest > 1; attempt++) {
          const before = stats.statements;
          const res: GqlResult<List> = await server.gql<List>(LIST, { first: 2, after }, viewer);
          expect(res.errors).toBeUndefined();
          fewest = Math.min(fewest, stats.statements - before);
          page = res.data!.conversations;
        }
        statements.push(fewest);
        nodes.push(...page!.edges.map((e) => e.node));
        after = page!.pageInfo.hasNextPage ? page!.pageInfo.endCursor : null;
      } while (after);
      // The admin sees all six; the agent the three they hold and the three with no team.
      expect(nodes).toHaveLength(6);
      expect(statements.every((n) => n === 1)).toBe(true);
      expect(nodes.filter((n) => n.assignee === null)).toHaveLength(3);
      expect(nodes.filter((n) => n.assignee?.id === owner.id)).toHaveLength(3);
      expect(nodes.every((n) => n.lastMessage?.body.startsWith('question '))).toBe(true);
      for (const node of nodes) {
        const alone = await server.gql<{ conversation: Node }>(ONE, { id: node.id }, viewer);
        expect(alone.errors).toBeUndefined();
        expect(node).toEqual(alone.data!.conversation);
      }
    }
  });

  it('joins only the relations the selection names', async () => {
    const { stats } = server.app.deps.database;
    const joinsOf = async (selection: string): Promise<string[]> => {
      const seen: string[] = [];
      // The list's statement is the one naming its cursor column (a background worker's is not).
      const watch = (query: string) => void (query.includes('as "cursorTs"') && seen.push(query));
      stats.watchers.add(watch);
      try {
        const res = await server.gql(`query { conversations(first: 3) { edges { node { ${selection} } } } }`, {}, inbox.tenant.token);
        expect(res.errors).toBeUndefined();
      } finally {
        stats.watchers.delete(watch);
      }
      expect(seen).toHaveLength(1);
      return [...seen[0]!.matchAll(/left join lateral \(.*?\) as "(\w+)" on true/g)].map((m) => m[1]!);
    };
    expect(await joinsOf('id status')).toEqual([]);
    expect(await joinsOf('id contact { id }')).toEqual(['contact']);
    expect(await joinsOf('lastMessage { id } assignee { id }')).toEqual(['assignee', 'last_message']);
    expect(await joinsOf('... on Conversation { phoneNumber { id } contact { name } }')).toEqual(['contact', 'phone_number']);
  });
});

describe('conversation queries and mutations', () => {
  let conversationId: string;
  let customer: string;

  beforeAll(async () => {
    customer = randomUsNumber('650');
    conversationId = await customerTexts(server, a, customer, 'Hi, is my appointment tomorrow?');
    await customerTexts(server, a, customer, 'At 10?');
  });

  const ONE = `query($id: ID!) { conversation(id: $id) { id status unreadCount assignee { id }
    contact { phoneNumber } phoneNumber { id e164 } lastMessage { body direction } } }`;

  it('reads a conversation of the tenant with its relations and unread count', async () => {
    const res = await server.gql(ONE, { id: conversationId }, a.tenant.token);
    expect(res.errors).toBeUndefined();
    expect(res.data!.conversation).toMatchObject({
      id: conversationId,
      status: 'OPEN',
      unreadCount: 2,
      assignee: null,
      contact: { phoneNumber: customer },
      phoneNumber: { id: a.number.id, e164: a.number.e164 },
      lastMessage: { body: 'At 10?', direction: 'INBOUND' },
    });
  });

  it("answers null for another tenant's conversation or a made-up id", async () => {
    for (const id of [conversationId, '00000000-0000-4000-8000-000000000000', 'nope']) {
      const res = await server.gql(ONE, { id }, b.tenant.token);
      expect(res.errors).toBeUndefined();
      expect(res.data!.conversation).toBeNull();
    }
    const list = await server.gql<{ conversations: PageResult }>(PAGE, { first: 100 }, b.tenant.token);
    expect(list.data!.conversations.edges.map((e) => e.node.id)).not.toContain(conversationId);
  });

  it('marks a conversation read', async () => {
    const res = await server.gql(
      `mutation($id: ID!) { markConversationRead(conversationId: $id) { id unreadCount } }`,
      { id: conversationId },
      agent.token,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.markConversationRead).toEqual({ id: conversationId, unreadCount: 0 });
    await customerTexts(server, a, customer, 'Hello?');
    const after = await server.gql(ONE, { id: conversationId }, a.tenant.token);
    expect(after.data!.conversation.unreadCount).toBe(1);
  });

  it('assigns to an agent of the tenant, filters by assignee, and unassigns', async () => {
    const ASSIGN = `mutation($c: ID!, $u: ID) { assignConversation(conversationId: $c, assigneeId: $u) { id assignee { id name } } }`;
    const res = await server.gql(ASSIGN, { c: conversationId, u: agent.id }, a.tenant.token);
    expect(res.errors).toBeUndefined();
    expect(res.data!.assignConversation.assignee).toEqual({ id: agent.id, name: 'Andy Agent' });

    const mine = await server.gql<{ conversations: PageResult }>(PAGE, { assigneeId: agent.id }, agent.token);
    expect(mine.data!.conversations.edges.map((e) => e.node.id)).toEqual([conversationId]);
    const nobody = await server.gql<{ conversations: PageResult }>(PAGE, { assigneeId: 'not-an-id' }, agent.token);
    expect(nobody.data!.conversations.edges).toEqual([]);

    // Another tenant's user is as unknown as a made-up one.
    for (const u of [b.tenant.userId, '00000000-0000-4000-8000-000000000000', 'x']) {
      const other = await server.gql(ASSIGN, { c: conversationId, u }, a.tenant.token);
      expect(errorCode(other)).toBe('NOT_FOUND');
    }
    // Another tenant cannot touch the conversation.
    const foreign = await server.gql(ASSIGN, { c: conversationId, u: b.tenant.userId }, b.tenant.token);
    expect(errorCode(foreign)).toBe('NOT_FOUND');

    const unassigned = await server.gql(ASSIGN, { c: conversationId, u: null }, agent.token);
    expect(unassigned.data!.assignConversation.assignee).toBeNull();
  });

  it('sets the status, filters by it, and refuses to reopen when a newer live conversation exists', async () => {
    const SET = `mutation($c: ID!, $s: ConversationStatus!) { setConversationStatus(conversationId: $c, status: $s) { id status } }`;
    const pending = await server.gql(SET, { c: conversationId, s: 'PENDING' }, agent.token);
    expect(pending.data!.setConversationStatus.status).toBe('PENDING');
    const pendingList = await server.gql<{ conversations: PageResult }>(PAGE, { status: 'PENDING' }, agent.token);
    expect(pendingList.data!.conversations.edges.map((e) => e.node.id)).toEqual([conversationId]);

    const resolved = await server.gql(SET, { c: conversationId, s: 'RESOLVED' }, agent.token);
    expect(resolved.data!.setConversationStatus.status).toBe('RESOLVED');
    // The customer writes again: a new conversation, the resolved one stays resolved.
    const newer = await customerTexts(server, a, customer, 'One more question');
    expect(newer).not.toBe(conversationId);

    const reopen = await server.gql(SET, { c: conversationId, s: 'OPEN' }, agent.token);
    expect(errorCode(reopen)).toBe('CONFLICT');
    await server.gql(SET, { c: newer, s: 'RESOLVED' }, agent.token);
    const reopened = await server.gql(SET, { c: conversationId, s: 'OPEN' }, agent.token);
    expect(reopened.data!.setConversationStatus.status).toBe('OPEN');

    const foreign = await server.gql(SET, { c: conversationId, s: 'RESOLVED' }, b.tenant.token);
    expect(errorCode(foreign)).toBe('NOT_FOUND');
  });

  it('requires a token', async () => {
    const res = await server.gql(PAGE, {});
    expect(errorCode(res)).toBe('UNAUTHENTICATED');
  });
});

describe('Conversation.messages', () => {
  it('pages newest first with `before`', async () => {
    const customer = randomUsNumber('707');
    const id = await customerTexts(server, a, customer, 'm1');
    for (let i = 2; i <= 7; i++) await customerTexts(server, a, customer, `m${i}`);
    const Q = `query($id: ID!, $before: String) { conversation(id: $id) {
      messages(first: 3, before: $before) { edges { cursor node { body author { id } } } pageInfo { hasNextPage hasPreviousPage endCursor } } } }`;
    const bodies: string[] = [];
    const more: boolean[] = [];
    let before: string | null = null;
    for (;;) {
      const res: GqlResult = await server.gql(Q, { id, before }, a.tenant.token);
      expect(res.errors).toBeUndefined();
      const conn: { edges: Array<{ node: { body: string } }>; pageInfo: { hasNextPage: boolean; endCursor: string } } = (
        res.data as Record<string, any>
      ).conversation.messages;
      bodies.push(...conn.edges.map((e) => e.node.body));
      more.push(conn.pageInfo.hasNextPage);
      if (!conn.pageInfo.hasNextPage) break;
      before = conn.pageInfo.endCursor;
    }
    expect(bodies).toEqual(['m7', 'm6', 'm5', 'm4', 'm3', 'm2', 'm1']);
    expect(more).toEqual([true, true, false]);
    const bad = await server.gql(Q, { id, before: 'zzz' }, a.tenant.token);
    expect(errorCode(bad)).toBe('BAD_USER_INPUT');
  });

  it("pages several conversations of a list in one request, each with its own newest messages, before a cursor too", async () => {
    // A tenant of its own, so the list holds exactly these three conversations.
    const inbox = await setUpInbox(server, fake, { tenantName: 'Threads Co' });
    const [x, y, z] = [randomUsNumber('708'), randomUsNumber('709'), randomUsNumber('710')];
    for (const body of ['x1', 'x2', 'x3']) await customerTexts(server, inbox, x, body);
    const yId = await customerTexts(server, inbox, y, 'y1');
    for (const body of ['y2', 'y3']) await customerTexts(server, inbox, y, body);
    await customerTexts(server, inbox, z, 'z1');
    const LIST = `query($before: String) { conversations(first: 10) { edges { node { contact { phoneNumber }
      messages(first: 2, before: $before) { edges { node { body } } pageInfo { hasNextPage } } } } } }`;
    const threads = async (before: string | null) => {
      const res: GqlResult = await server.gql(LIST, { before }, inbox.tenant.token);
      expect(res.errors).toBeUndefined();
      const edges: Array<{ node: { contact: { phoneNumber: string }; messages: { edges: Array<{ node: { body: string } }>; pageInfo: { hasNextPage: boolean } } } }> = (
        res.data as Record<string, any>
      ).conversations.edges;
      return Object.fromEntries(edges.map((e) => [e.node.contact.phoneNumber, [e.node.messages.edges.map((m) => m.node.body), e.node.messages.pageInfo.hasNextPage]]));
    };
    expect(await threads(null)).toEqual({ [x]: [['x3', 'x2'], true], [y]: [['y3', 'y2'], true], [z]: [['z1'], false] });

    // y2's cursor (from y's own thread) under the list: every conversation's messages older than y2.
    const Y = `query($id: ID!) { conversation(id: $id) { messages(first: 3) { edges { cursor node { body } } } } }`;
    const yThread: GqlResult = await server.gql(Y, { id: yId }, inbox.tenant.token);
    const y2 = (yThread.data as Record<string, any>).conversation.messages.edges.find((e: { node: { body: string } }) => e.node.body === 'y2').cursor as string;
    expect(await threads(y2)).toEqual({ [x]: [['x3', 'x2'], true], [y]: [['y1'], false], [z]: [[], false] });
  });
});
