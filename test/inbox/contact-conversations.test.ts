import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contacts } from '../../src/db/schema.js';
import type { Router } from '../../src/modules/routing/router.js';
import { startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { customerTexts, randomUsNumber, setUpInbox, type Inbox } from '../helpers/inbox.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { agents, createTeam, must, teamNumber } from '../routing/routing-setup.js';

// Contact.conversations through the real server: one statement for every contact of a result
// (a request-scoped DataLoader), each contact's own page, the caller's visibility.

let server: TestServer;
let fake: FakeTwilio;
let inbox: Inbox;

beforeAll(async () => {
  [server, fake] = await Promise.all([startTestServer({ DISPATCHER_ENABLED: 'false', ROUTING_SWEEP_INTERVAL_MS: '3600000' }), startFakeTwilio()]);
  inbox = await setUpInbox(server, fake, { tenantName: 'Contact history' });
}, 240_000);
afterAll(async () => {
  await Promise.all([server?.close(), fake?.close()]);
});

const QUERY = `query($first: Int, $per: Int, $after: String) {
  contacts(first: $first) { edges { node { id phoneNumber
    conversations(first: $per, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } } } } }`;

type ContactPage = {
  id: string;
  phoneNumber: string;
  conversations: { edges: Array<{ node: { id: string } }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
};

async function contactsWithHistory(token: string, first: number, per: number, after: string | null = null): Promise<ContactPage[]> {
  const res = must(await server.gql(QUERY, { first, per, after }, token), 'contacts');
  return (res.contacts.edges as Array<{ node: ContactPage }>).map((e) => e.node);
}

const RESOLVE = `mutation($c: ID!) { setConversationStatus(conversationId: $c, status: RESOLVED) { id } }`;

describe('Contact.conversations', () => {
  it('one statement for every contact of a page: as many statements for 8 contacts as for 2; each contact gets its own page', async () => {
    const customers = Array.from({ length: 8 }, () => randomUsNumber());
    const byCustomer = new Map<string, string[]>();
    for (const c of customers) byCustomer.set(c, [await customerTexts(server, inbox, c, 'hello')]);
    // Two customers come back after a resolution: two conversations each, the newest first.
    for (const c of customers.slice(0, 2)) {
      must(await server.gql(RESOLVE, { c: byCustomer.get(c)![0] }, inbox.tenant.token), 'resolve');
      byCustomer.get(c)!.unshift(await customerTexts(server, inbox, c, 'me again'));
    }

    const stats = server.app.deps.database.stats;
    // Routing of the conversations opened above runs after each webhook's answer (batched a few
    // ms later): let it finish so that its statements are not counted as the query's.
    await (server.app.deps.routing as Router).settled();
    // The counter is the server's: a background worker (the webhook enqueuer after routing's
    // events, presence) may run a statement during a request; the fewest of three tries is the
    // request's own (a per-contact statement would count on every try).
    const count = async (first: number) => {
      let best: { statements: number; page: ContactPage[] } | null = null;
      for (let attempt = 0; attempt < 3; attempt++) {
        const before = stats.statements;
        const page = await contactsWithHistory(inbox.tenant.token, first, 1);
        const statements = stats.statements - before;
        if (!best || statements < best.statements) best = { statements, page };
      }
      return best!;
    };
    const two = await count(2);
    const eight = await count(8);
    expect(two.page).toHaveLength(2);
    expect(eight.page).toHaveLength(8);
    expect(eight.statements).toBe(two.statements);

    for (const contact of eight.page) {
      const expected = byCustomer.get(contact.phoneNumber)!;
      expect(contact.conversations.edges.map((e) => e.node.id)).toEqual([expected[0]]);
      expect(contact.conversations.pageInfo.hasNextPage).toBe(expected.length > 1);
    }
    // The next page of a returning customer: its older conversation, and nothing after it.
    const returning = eight.page.find((c) => c.phoneNumber === customers[0])!;
    const next = (await contactsWithHistory(inbox.tenant.token, 8, 5, returning.conversations.pageInfo.endCursor)).find((c) => c.id === returning.id)!;
    expect(next.conversations.edges.map((e) => e.node.id)).toEqual([byCustomer.get(customers[0]!)![1]]);
    expect(next.conversations.pageInfo.hasNextPage).toBe(false);
  }, 180_000); // a loaded, shared machine

  it("an agent sees only the conversations in their view: another team's are absent, ADMIN sees both", async () => {
    const [agent] = await agents(server, inbox.tenant.token, 1);
    const mine = await createTeam(server, inbox.tenant.token, { strategy: 'MANUAL', memberIds: [agent!.id] });
    const theirs = await createTeam(server, inbox.tenant.token, { strategy: 'MANUAL' });
    const [mineNumber, theirNumber] = [await teamNumber(server, inbox, mine.id), await teamNumber(server, inbox, theirs.id)];
    const customer = randomUsNumber();
    const visible = await customerTexts(server, { ...inbox, number: { ...inbox.number, ...mineNumber } }, customer, 'to my team');
    const hidden = await customerTexts(server, { ...inbox, number: { ...inbox.number, ...theirNumber } }, customer, 'to theirs');
    const [row] = await server.app.deps.db
      .select({ id: contacts.id })
      .from(contacts)
      .where(and(eq(contacts.tenantId, inbox.tenant.tenantId), eq(contacts.phoneNumber, customer)));
    const historyOf = async (token: string) =>
      (await contactsWithHistory(token, 100, 10)).find((c) => c.id === row!.id)!.conversations.edges.map((e) => e.node.id).sort();
    expect(await historyOf(agent!.token)).toEqual([visible]);
    expect(await historyOf(inbox.tenant.token)).toEqual([visible, hidden].sort());
  }, 180_000); // a loaded, shared machine
});
