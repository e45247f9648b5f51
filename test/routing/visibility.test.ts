import type { Router } from '../../src/modules/routing/router.js';
import type { AutomationEngine } from '../../src/modules/automations/automation-engine.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationRemovedEvent } from '../../src/events/live-events.js';
import { startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { randomUsNumber, setUpInbox, type Inbox } from '../helpers/inbox.js';
import { collect, subscribed } from '../helpers/live.js';
import { errorCode, startTestServer, type TestServer } from '../helpers/test-server.js';
import { sendInbound } from '../helpers/twilio-setup.js';
import { waitFor } from '../helpers/wait.js';
import { agents, createTeam, listConversations, must, teamNumber, type Agent } from './routing-setup.js';

/**
 * The visibility rule: an ADMIN sees every conversation; an AGENT those assigned to them, those
 * of their teams and team-less ones, in queries, mutations and live events alike.
 */
let fake: FakeTwilio;
let server: TestServer;
let inbox: Inbox;
let a: Agent; // member of team A
let b: Agent; // member of team B
let teamA: { id: string };
let teamB: { id: string };
let numberA: { id: string; e164: string };
let numberB: { id: string; e164: string };
const conv = { a: '', b: '', none: '' };
const customer = { a: randomUsNumber('650'), b: randomUsNumber('650'), none: randomUsNumber('650') };

const ONE = `query($id: ID!) { conversation(id: $id) { id } }`;

async function texts(from: string, to: string, body: string): Promise<void> {
  const res = await sendInbound(server, inbox.account, { from, to, body });
  expect(res.status).toBe(200);
}

async function conversationOf(phone: string): Promise<string> {
  const list = await listConversations(server, inbox.tenant.token);
  return list.find((c) => c.contact.phoneNumber === phone)!.id;
}

beforeAll(async () => {
  fake = await startFakeTwilio();
  server = await startTestServer({ DISPATCHER_ENABLED: 'false' });
  inbox = await setUpInbox(server, fake, { tenantName: 'Visibility' });
  [a, b] = (await agents(server, inbox.tenant.token, 2)) as [Agent, Agent];
  // MANUAL: nobody is assigned by routing, so visibility here comes from teams alone.
  teamA = await createTeam(server, inbox.tenant.token, { name: 'A', strategy: 'MANUAL', memberIds: [a.id] });
  teamB = await createTeam(server, inbox.tenant.token, { name: 'B', strategy: 'MANUAL', memberIds: [b.id] });
  numberA = await teamNumber(server, inbox, teamA.id);
  numberB = await teamNumber(server, inbox, teamB.id);
  await texts(customer.a, numberA.e164, 'for A');
  await texts(customer.b, numberB.e164, 'for B');
  await texts(customer.none, inbox.number.e164, 'for anyone');
  conv.a = await conversationOf(customer.a);
  conv.b = await conversationOf(customer.b);
  conv.none = await conversationOf(customer.none);
}, 90_000);
afterAll(async () => {
  await server?.close();
  await fake?.close();
});

describe('queries and mutations', () => {
  it("an AGENT of team A cannot read, list, reply to, assign, resolve, mark read or transfer team B's conversation", async () => {
    expect((await server.gql(ONE, { id: conv.b }, a.token)).data!.conversation).toBeNull();
    expect((await listConversations(server, a.token)).map((c) => c.id).sort()).toEqual([conv.a, conv.none].sort());
    const refused = [
      [`mutation($c: ID!) { sendMessage(input: { conversationId: $c, body: "hi" }) { id } }`, {}],
      [`mutation($c: ID!, $u: ID) { assignConversation(conversationId: $c, assigneeId: $u) { id } }`, { u: a.id }],
      [`mutation($c: ID!) { setConversationStatus(conversationId: $c, status: RESOLVED) { id } }`, {}],
      [`mutation($c: ID!) { markConversationRead(conversationId: $c) { id } }`, {}],
      [`mutation($c: ID!, $t: ID) { transferConversation(conversationId: $c, teamId: $t) { id } }`, { t: teamA.id }],
    ] as const;
    for (const [mutation, extra] of refused) {
      expect(errorCode(await server.gql(mutation, { c: conv.b, ...extra }, a.token)), mutation).toBe('NOT_FOUND');
    }
    // Nothing changed: still open, unassigned, unread, in team B, no reply stored.
    const view = must(
      await server.gql(
        `query($id: ID!) { conversation(id: $id) { status unreadCount assignee { id } team { id } messages(first: 10) { edges { node { direction } } } } }`,
        { id: conv.b },
        inbox.tenant.token,
      ),
      'admin read',
    ).conversation;
    expect(view).toEqual({ status: 'OPEN', unreadCount: 1, assignee: null, team: { id: teamB.id }, messages: { edges: [{ node: { direction: 'INBOUND' } }] } });
  });

  it('an ADMIN sees every conversation; filters combine with the rule', async () => {
    expect((await listConversations(server, inbox.tenant.token)).map((c) => c.id).sort()).toEqual([conv.a, conv.b, conv.none].sort());
    expect((await listConversations(server, inbox.tenant.token, { teamId: teamB.id })).map((c) => c.id)).toEqual([conv.b]);
    expect((await listConversations(server, a.token, { teamId: teamB.id }))).toEqual([]);
    expect((await listConversations(server, a.token, { phoneNumberId: numberA.id })).map((c) => c.id)).toEqual([conv.a]);
    expect((await listConversations(server, a.token, { phoneNumberId: numberB.id }))).toEqual([]);
    expect((await listConversations(server, inbox.tenant.token, { unassigned: false }))).toEqual([]);
    expect((await listConversations(server, inbox.tenant.token, { teamId: 'not-an-id' }))).toEqual([]);
  });

  it('the rule and the filters keep one statement for the list, and keyset pages stay exact', async () => {
    const LIST = `query($first: Int, $after: String, $teamId: ID, $unassigned: Boolean, $phoneNumberId: ID) {
      conversations(first: $first, after: $after, teamId: $teamId, unassigned: $unassigned, phoneNumberId: $phoneNumberId) {
        edges { node { id } } pageInfo { hasNextPage endCursor } } }`;
    const stats = server.app.deps.database.stats;
    // Routing of the conversations opened above runs after each webhook's answer: let it finish
    // so that its statements are not counted as the list's.
    await (server.app.deps.routing as Router).settled();
    await (server.app.deps.automations as AutomationEngine).drain();
    // The counter is the server's: a background poll (outbox, webhook deliveries, sweeps) can land
    // inside one request's count, never inside all three, so the fewest is the request's own.
    const count = async (token: string, variables: Record<string, unknown>) => {
      const counts: number[] = [];
      for (let i = 0; i < 3; i++) {
        const before = stats.statements;
        must(await server.gql(LIST, variables, token), 'list');
        counts.push(stats.statements - before);
      }
      return Math.min(...counts);
    };
    // Warm each caller's per-instance caches (user row, memberships) first: a cold or expired
    // entry costs a statement of its own, which is not the list's.
    await count(inbox.tenant.token, { first: 20 });
    await count(a.token, { first: 20 });
    const plain = await count(inbox.tenant.token, { first: 20 });
    expect(await count(a.token, { first: 20 })).toBe(plain);
    expect(await count(a.token, { first: 20, teamId: teamA.id, unassigned: true, phoneNumberId: numberA.id })).toBe(plain);
    // Pages of one through an agent's view: every visible conversation once, in order.
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: { edges: Array<{ node: { id: string } }>; pageInfo: { hasNextPage: boolean; endCursor: string } } = must(
        await server.gql(LIST, { first: 1, after }, a.token),
        'page',
      ).conversations;
      seen.push(...page.edges.map((e) => e.node.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual((await listConversations(server, a.token)).map((c) => c.id));
    expect(seen).not.toContain(conv.b);
  });

  it('a thread (the conversation and its page of messages) is one statement, by the same rule, the same page as the list reads', async () => {
    const THREAD = `query($id: ID!, $first: Int, $before: String) { conversation(id: $id) {
      id status messages(first: $first, before: $before) { edges { cursor node { body direction } } pageInfo { hasNextPage } } } }`;
    type Thread = { conversation: { id: string; status: string; messages: { edges: Array<{ cursor: string; node: { body: string } }>; pageInfo: { hasNextPage: boolean } } } | null };
    const stats = server.app.deps.database.stats;
    await (server.app.deps.routing as Router).settled();
    await (server.app.deps.automations as AutomationEngine).drain();
    // The fewest of three: a background poll can land inside one request's count, never inside all three.
    const thread = async (token: string, variables: Record<string, unknown>) => {
      let fewest = Infinity;
      let data: Thread | undefined;
      for (let i = 0; i < 3; i++) {
        const before = stats.statements;
        data = must<Thread>(await server.gql<Thread>(THREAD, variables, token), 'thread');
        fewest = Math.min(fewest, stats.statements - before);
      }
      return { statements: fewest, conversation: data!.conversation };
    };
    await texts(customer.b, numberB.e164, 'for B, again');
    await thread(b.token, { id: conv.b });

    // An ADMIN and B's member read team B's thread in one statement each, newest first.
    const admin = await thread(inbox.tenant.token, { id: conv.b, first: 1 });
    expect(admin.statements).toBe(1);
    expect(admin.conversation).toMatchObject({ id: conv.b, status: 'OPEN' });
    expect(admin.conversation!.messages.edges.map((e) => e.node.body)).toEqual(['for B, again']);
    expect(admin.conversation!.messages.pageInfo.hasNextPage).toBe(true);
    const member = await thread(b.token, { id: conv.b, first: 1 });
    expect(member).toEqual(admin);
    // A's member does not see it: absent, as a made-up id and another tenant's are, still one statement.
    expect(await thread(a.token, { id: conv.b, first: 1 })).toEqual({ statements: 1, conversation: null });
    expect(await thread(a.token, { id: conv.a, first: 5 })).toMatchObject({ statements: 1, conversation: { id: conv.a } });

    // Before the newest: the older text; before the oldest: an empty page of a conversation still there.
    const older = await thread(b.token, { id: conv.b, before: admin.conversation!.messages.edges[0]!.cursor });
    expect(older.statements).toBe(1);
    expect(older.conversation!.messages.edges.map((e) => e.node.body)).toEqual(['for B']);
    const none = await thread(b.token, { id: conv.b, before: older.conversation!.messages.edges[0]!.cursor });
    expect(none.conversation).toMatchObject({ id: conv.b, messages: { edges: [], pageInfo: { hasNextPage: false } } });

    // The same page the list reads for that conversation (MessagesRepository.pages).
    const listed = must(
      await server.gql(`query { conversations(first: 20, teamId: "${teamB.id}") { edges { node { id messages(first: 5) { edges { cursor node { body direction } } pageInfo { hasNextPage } } } } } }`, {}, b.token),
      'list',
    ).conversations.edges.find((e: { node: { id: string } }) => e.node.id === conv.b).node.messages;
    expect((await thread(b.token, { id: conv.b, first: 5 })).conversation!.messages).toEqual(listed);

    // Two selections of messages with their own arguments: each answers its own page.
    const both = must(
      await server.gql(`query($id: ID!) { conversation(id: $id) { newest: messages(first: 1) { edges { node { body } } } all: messages(first: 10) { edges { node { body } } } } }`, { id: conv.b }, b.token),
      'aliases',
    ).conversation;
    expect(both.newest.edges.map((e: { node: { body: string } }) => e.node.body)).toEqual(['for B, again']);
    expect(both.all.edges.map((e: { node: { body: string } }) => e.node.body)).toEqual(['for B, again', 'for B']);
  });

  it("an agent sees a conversation assigned to them even in another team's queue", async () => {
    const customerX = randomUsNumber('650');
    await texts(customerX, numberB.e164, 'assign me to a');
    const id = await conversationOf(customerX);
    expect((await server.gql(ONE, { id }, a.token)).data!.conversation).toBeNull();
    must(await server.gql(`mutation($c: ID!, $u: ID) { assignConversation(conversationId: $c, assigneeId: $u) { id } }`, { c: id, u: a.id }, inbox.tenant.token), 'assign');
    expect((await server.gql(ONE, { id }, a.token)).data!.conversation).toEqual({ id });
    expect(errorCode(await server.gql(`mutation($c: ID!) { markConversationRead(conversationId: $c) { id } }`, { c: id }, a.token))).toBeUndefined();
  });
});

describe('live events', () => {
  it("never delivers team B's events to an AGENT of team A; a transfer moves live visibility", async () => {
    const before = server.app.deps.events.subscriberCount;
    const subA = server.ws(a.token);
    const addedA = collect(subA, `subscription { messageAdded { id conversationId body } }`);
    const updatedA = collect(subA, `subscription { conversationUpdated { id team { id } } }`);
    const removedA = collect(subA, `subscription { conversationRemoved }`);
    const updatedB = collect(server.ws(b.token), `subscription { conversationUpdated { id team { id } } }`);
    const addedAdmin = collect(server.ws(inbox.tenant.token), `subscription { messageAdded { id conversationId } }`);
    const narrowed = collect(server.ws(a.token), `subscription($c: ID) { messageAdded(conversationId: $c) { id } }`, { c: conv.b });
    await waitFor(() => narrowed.errors.length > 0, { what: 'the narrowed subscription refused' });
    expect(JSON.stringify(narrowed.errors)).toContain('NOT_FOUND');
    await subscribed(server.app.deps.events, before + 5);

    // B's text first, then A's as a marker: once A's arrived, B's would have too.
    await texts(customer.b, numberB.e164, 'secret for B');
    await texts(customer.a, numberA.e164, 'marker for A');
    await waitFor(() => addedA.events.find((e) => e.body === 'marker for A'), { what: "A's marker" });
    await waitFor(() => addedAdmin.events.filter((e) => e.conversationId === conv.b).length > 0, { what: 'the admin sees B' });
    expect(addedA.events.map((e) => e.conversationId)).not.toContain(conv.b);
    expect(updatedA.events.map((e) => e.id)).not.toContain(conv.b);

    // The admin moves A's conversation to team B: a loses it (conversationRemoved), b gains it.
    const moved = await server.gql(`mutation($c: ID!, $t: ID) { transferConversation(conversationId: $c, teamId: $t) { id team { id } } }`, { c: conv.a, t: teamB.id }, inbox.tenant.token);
    expect(must(moved, 'transfer').transferConversation.team).toEqual({ id: teamB.id });
    await waitFor(() => removedA.events.includes(conv.a as never), { what: 'conversationRemoved for a' });
    await waitFor(() => updatedB.events.find((e) => e.id === conv.a && e.team?.id === teamB.id), { what: 'b learns of it' });
    expect(updatedA.events.filter((e) => e.team?.id === teamB.id)).toEqual([]);
    expect((await server.gql(ONE, { id: conv.a }, a.token)).data!.conversation).toBeNull();

    // Its next messages reach b's team, not a (marker: the team-less conversation).
    const countA = addedA.events.length;
    await texts(customer.a, numberA.e164, 'after the move');
    await texts(customer.none, inbox.number.e164, 'marker 2');
    await waitFor(() => addedA.events.find((e) => e.body === 'marker 2'), { what: 'marker 2' });
    expect(addedA.events.slice(countA).map((e) => e.body)).toEqual(['marker 2']);
    expect(removedA.events).toEqual([conv.a]);
  }, 240_000);

  it("deleting a team into another tells its members who are not in that team that they lost its conversations", async () => {
    const [c, d] = (await agents(server, inbox.tenant.token, 2)) as [Agent, Agent];
    const gone = await createTeam(server, inbox.tenant.token, { strategy: 'MANUAL', memberIds: [c.id, d.id] });
    const kept = await createTeam(server, inbox.tenant.token, { strategy: 'MANUAL', memberIds: [d.id] });
    const number = await teamNumber(server, inbox, gone.id);
    const who = randomUsNumber('650');
    await texts(who, number.e164, 'in the team that goes');
    const id = await conversationOf(who);
    const before = server.app.deps.events.subscriberCount;
    const removedC = collect(server.ws(c.token), `subscription { conversationRemoved }`);
    const removedD = collect(server.ws(d.token), `subscription { conversationRemoved }`);
    const removedAdmin = collect(server.ws(inbox.tenant.token), `subscription { conversationRemoved }`);
    await subscribed(server.app.deps.events, before + 3);

    must(await server.gql(`mutation($id: ID!, $to: ID) { deleteTeam(id: $id, moveConversationsTo: $to) }`, { id: gone.id, to: kept.id }, inbox.tenant.token), 'deleteTeam');
    await waitFor(() => removedC.events.includes(id as never), { what: 'c told' });
    // A marker for everyone, published after: what they got before it is all they got.
    const tenantId = inbox.tenant.tenantId;
    const marker = '00000000-0000-4000-8000-00000000beef';
    server.app.deps.events.publish(conversationRemovedEvent({ id: marker, tenantId }));
    await waitFor(() => removedD.events.includes(marker as never) && removedAdmin.events.includes(marker as never), { what: 'the markers' });
    expect(removedD.events).toEqual([marker]);
    await waitFor(() => removedC.events.includes(marker as never), { what: "c's marker" });
    expect(removedC.events).toEqual([id, marker]);
    expect(removedAdmin.events).toEqual([marker]);
    expect((await server.gql(ONE, { id }, c.token)).data!.conversation).toBeNull();
    expect((await server.gql(ONE, { id }, d.token)).data!.conversation).toEqual({ id });
  }, 240_000);
});
