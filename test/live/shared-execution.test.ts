import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { conversationRemovedEvent } from '../../src/events/live-events.js';
import { startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { randomUsNumber, setUpInbox, type Inbox } from '../helpers/inbox.js';
import { collect, subscribed, type Collected } from '../helpers/live.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { sendInbound } from '../helpers/twilio-setup.js';
import { waitFor } from '../helpers/wait.js';
import { agents, createTeam, must, teamNumber, type Agent } from '../routing/routing-setup.js';

/**
 * Identical subscriptions (same document and variables, same tenant and visibility class) share
 * one execution per event: the server computes and serialises the result once and writes it to
 * every socket of the group (live_executions_total vs live_deliveries_total on /metrics). Agents
 * whose visibility differs are separate groups and get different events; other tenants nothing.
 */
let fake: FakeTwilio;
let server: TestServer;
let inbox: Inbox;
let other: Inbox;
let a: Agent; // member of team A
let b: Agent; // member of team B
let c: Agent; // in no team: sees team-less conversations (and any assigned to them)
let numberA: { id: string; e164: string };
let numberB: { id: string; e164: string };
const clients: Client[] = [];

const MESSAGE_ADDED = `subscription { messageAdded { id conversationId body direction status author { id } } }`;
/** Plain fields of the row only: the result cannot differ between agents (liveClass). */
const PLAIN = `subscription { messageAdded { id conversationId body direction status createdAt __typename } }`;
const REMOVED = `subscription { conversationRemoved }`;

beforeAll(async () => {
  fake = await startFakeTwilio();
  server = await startTestServer({ DISPATCHER_ENABLED: 'false' });
  [inbox, other] = await Promise.all([setUpInbox(server, fake, { tenantName: 'Shared' }), setUpInbox(server, fake, { tenantName: 'Elsewhere' })]);
  [a, b, c] = (await agents(server, inbox.tenant.token, 3)) as [Agent, Agent, Agent];
  // MANUAL: nobody is assigned by routing, so visibility comes from teams alone.
  const teamA = await createTeam(server, inbox.tenant.token, { name: 'A', strategy: 'MANUAL', memberIds: [a.id] });
  const teamB = await createTeam(server, inbox.tenant.token, { name: 'B', strategy: 'MANUAL', memberIds: [b.id] });
  numberA = await teamNumber(server, inbox, teamA.id);
  numberB = await teamNumber(server, inbox, teamB.id);
}, 90_000);
afterAll(async () => {
  for (const c of clients) await c.dispose();
  await server?.close();
  await fake?.close();
});

const bus = () => server.app.deps.events;

function socket(token: string): Client {
  const client = server.ws(token);
  clients.push(client);
  return client;
}

async function texts(target: Inbox, from: string, to: string, body: string): Promise<void> {
  const res = await sendInbound(server, target.account, { from, to, body });
  expect(res.status).toBe(200);
}

async function liveCounters(): Promise<{ executions: number; deliveries: number }> {
  const res = await fetch(`${server.url}/metrics`);
  expect(res.status).toBe(200);
  const text = await res.text();
  const read = (name: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    if (!line) throw new Error(`${name} missing from /metrics`);
    return Number(line.split(' ')[1]);
  };
  return { executions: read('live_executions_total'), deliveries: read('live_deliveries_total') };
}

/**
 * One text to team A's number, one to team B's, then the markers: a team-less conversation
 * (everyone in the tenant sees it), then the other tenant's. Bodies: `${prefix}for team A`, ...
 */
async function textsOfEachView(prefix: string): Promise<void> {
  await texts(inbox, randomUsNumber('650'), numberA.e164, `${prefix}for team A`);
  await texts(inbox, randomUsNumber('650'), numberB.e164, `${prefix}for team B`);
  await texts(inbox, randomUsNumber('650'), inbox.number.e164, `${prefix}for everyone`);
  await texts(other, randomUsNumber('650'), other.number.e164, `${prefix}other tenant`);
}

const bodies = (c: Collected | Collected['events']) => (Array.isArray(c) ? c : c.events).map((e) => e.body as string);

describe('one execution per live event per group of identical subscriptions', () => {
  it('sends two sockets of one subscription the same payload from a single execution; another tenant gets nothing', async () => {
    const base = bus().subscriberCount;
    const first = collect(socket(inbox.tenant.token), MESSAGE_ADDED);
    const second = collect(socket(inbox.tenant.token), MESSAGE_ADDED);
    const elsewhere = collect(socket(other.tenant.token), MESSAGE_ADDED);
    await subscribed(bus(), base + 3);
    const before = await liveCounters();

    await texts(inbox, randomUsNumber('650'), inbox.number.e164, 'shared once');
    const [x] = await first.waitForCount(1);
    const [y] = await second.waitForCount(1);
    expect(x).toMatchObject({ body: 'shared once', direction: 'INBOUND', author: null });
    expect(y).toEqual(x);

    // A marker of the other tenant, sent after: its subscriber receives only it.
    await texts(other, randomUsNumber('650'), other.number.e164, 'marker elsewhere');
    expect(bodies(await elsewhere.waitForCount(1))).toEqual(['marker elsewhere']);
    expect(bodies(first)).toEqual(['shared once']);
    expect(bodies(second)).toEqual(['shared once']);

    const after = await liveCounters();
    // Two results computed (one per tenant's group), three frames written.
    expect(after.executions - before.executions).toBe(2);
    expect(after.deliveries - before.deliveries).toBe(3);

    // One member leaving does not end the other's subscription.
    first.unsubscribe();
    await waitFor(() => bus().subscriberCount === base + 2, { what: 'one member to leave' });
    await texts(inbox, randomUsNumber('650'), inbox.number.e164, 'after one left');
    expect(bodies(await second.waitForCount(2))).toEqual(['shared once', 'after one left']);
    second.unsubscribe();
    elsewhere.unsubscribe();
    await waitFor(() => bus().subscriberCount === base, { what: 'the subscriptions to end' });
  });

  it("agents with different visibility in one tenant are different groups: each gets what they may see, other tenants nothing", async () => {
    const base = bus().subscriberCount;
    const a1 = collect(socket(a.token), MESSAGE_ADDED);
    const a2 = collect(socket(a.token), MESSAGE_ADDED);
    const b1 = collect(socket(b.token), MESSAGE_ADDED);
    const admin = collect(socket(inbox.tenant.token), MESSAGE_ADDED);
    const elsewhere = collect(socket(other.tenant.token), MESSAGE_ADDED);
    await subscribed(bus(), base + 5);
    const before = await liveCounters();

    await textsOfEachView('');

    await admin.waitForCount(3);
    await a1.waitForCount(2);
    await a2.waitForCount(2);
    await b1.waitForCount(2);
    await elsewhere.waitForCount(1);
    expect(bodies(a1)).toEqual(['for team A', 'for everyone']);
    expect(a2.events).toEqual(a1.events);
    expect(bodies(b1)).toEqual(['for team B', 'for everyone']);
    expect(bodies(admin)).toEqual(['for team A', 'for team B', 'for everyone']);
    expect(bodies(elsewhere)).toEqual(['other tenant']);
    for (const c of [a1, a2, b1, admin, elsewhere]) expect(c.errors).toEqual([]);

    const after = await liveCounters();
    // Agent a's group: 2 results for 4 frames; b: 2 for 2; the admin: 3 for 3; the other tenant: 1 for 1.
    expect(after.executions - before.executions).toBe(8);
    expect(after.deliveries - before.deliveries).toBe(10);
    for (const c of [a1, a2, b1, admin, elsewhere]) c.unsubscribe();
    await waitFor(() => bus().subscriberCount === base, { what: 'the subscriptions to end' });
  });

  it("agents' identical documents of plain fields share one execution per event; each agent still gets only what they may see", async () => {
    const base = bus().subscriberCount;
    const a1 = collect(socket(a.token), PLAIN);
    const a2 = collect(socket(a.token), PLAIN);
    const b1 = collect(socket(b.token), PLAIN);
    const c1 = collect(socket(c.token), PLAIN);
    const admin = collect(socket(inbox.tenant.token), PLAIN);
    const elsewhere = collect(socket(other.tenant.token), PLAIN);
    await subscribed(bus(), base + 6);
    const before = await liveCounters();

    // The agents' group decides events one at a time: c's receiving the team-less text means the
    // two before it were decided.
    await textsOfEachView('plain ');

    await admin.waitForCount(3);
    await a1.waitForCount(2);
    await a2.waitForCount(2);
    await b1.waitForCount(2);
    await c1.waitForCount(1);
    await elsewhere.waitForCount(1);
    expect(bodies(a1)).toEqual(['plain for team A', 'plain for everyone']);
    expect(a2.events).toEqual(a1.events);
    expect(bodies(b1)).toEqual(['plain for team B', 'plain for everyone']);
    expect(bodies(c1)).toEqual(['plain for everyone']);
    expect(bodies(admin)).toEqual(['plain for team A', 'plain for team B', 'plain for everyone']);
    expect(bodies(elsewhere)).toEqual(['plain other tenant']);
    // The same payload whoever receives it.
    expect(c1.events[0]).toEqual(a1.events[1]);
    expect(b1.events[1]).toEqual(a1.events[1]);
    for (const x of [a1, a2, b1, c1, admin, elsewhere]) expect(x.errors).toEqual([]);

    const after = await liveCounters();
    // The three agents' one group: 3 results (one per event of the tenant, each written only to
    // the sockets whose agent may see it); the admin: 3; the other tenant: 1. Per agent it was 2 + 2 + 1.
    expect(after.executions - before.executions).toBe(7);
    expect(after.deliveries - before.deliveries).toBe(11);

    // An agent leaving the shared group does not end it for the others.
    a1.unsubscribe();
    a2.unsubscribe();
    await waitFor(() => bus().subscriberCount === base + 4, { what: "agent a's subscriptions to end" });
    await texts(inbox, randomUsNumber('650'), inbox.number.e164, 'plain after a left');
    expect(bodies(await c1.waitForCount(2))).toEqual(['plain for everyone', 'plain after a left']);
    expect(bodies(await b1.waitForCount(3))).toEqual(['plain for team B', 'plain for everyone', 'plain after a left']);
    expect(bodies(a1)).toEqual(['plain for team A', 'plain for everyone']);
    for (const x of [b1, c1, admin, elsewhere]) x.unsubscribe();
    await waitFor(() => bus().subscriberCount === base, { what: 'the subscriptions to end' });
  });

  it('conversationRemoved reaches every socket of the agent who lost sight of it, and nobody else', async () => {
    const customer = randomUsNumber('650');
    await texts(inbox, customer, numberA.e164, 'to be transferred');
    const list = must(
      await server.gql(`{ conversations(first: 50) { edges { node { id contact { phoneNumber } } } } }`, {}, a.token),
      'conversations',
    ) as { conversations: { edges: Array<{ node: { id: string; contact: { phoneNumber: string } } }> } };
    const conversationId = list.conversations.edges.find((e) => e.node.contact.phoneNumber === customer)!.node.id;

    const base = bus().subscriberCount;
    const a1 = collect(socket(a.token), REMOVED);
    const a2 = collect(socket(a.token), REMOVED);
    const b1 = collect(socket(b.token), REMOVED);
    const admin = collect(socket(inbox.tenant.token), REMOVED);
    await subscribed(bus(), base + 4);

    const teams = must(await server.gql(`{ teams { id name } }`, {}, inbox.tenant.token), 'teams') as { teams: Array<{ id: string; name: string }> };
    const teamB = teams.teams.find((t) => t.name === 'B')!;
    must(
      await server.gql(`mutation($c: ID!, $t: ID) { transferConversation(conversationId: $c, teamId: $t) { id } }`, { c: conversationId, t: teamB.id }, inbox.tenant.token),
      'transfer',
    );
    expect((await a1.waitForCount(1))[0]).toBe(conversationId);
    expect((await a2.waitForCount(1))[0]).toBe(conversationId);

    // Marker: a conversation transferred from team B to team A leaves b's view; b gets only that one.
    const back = randomUsNumber('650');
    await texts(inbox, back, numberB.e164, 'marker');
    const listB = must(
      await server.gql(`{ conversations(first: 50) { edges { node { id contact { phoneNumber } } } } }`, {}, b.token),
      'conversations',
    ) as { conversations: { edges: Array<{ node: { id: string; contact: { phoneNumber: string } } }> } };
    const markerId = listB.conversations.edges.find((e) => e.node.contact.phoneNumber === back)!.node.id;
    const teamA = teams.teams.find((t) => t.name === 'A')!;
    must(
      await server.gql(`mutation($c: ID!, $t: ID) { transferConversation(conversationId: $c, teamId: $t) { id } }`, { c: markerId, t: teamA.id }, inbox.tenant.token),
      'transfer back',
    );
    expect(await b1.waitForCount(1)).toEqual([markerId]);
    // A removal for everyone, last: each subscription's events end with it.
    const everyone = '00000000-0000-4000-8000-000000000001';
    bus().publish(conversationRemovedEvent({ id: everyone, tenantId: inbox.tenant.tenantId }));
    for (const c of [a1, a2, b1, admin]) await waitFor(() => (c.events as unknown[]).includes(everyone), { what: 'the removal for everyone' });
    expect(a1.events).toEqual([conversationId, everyone]);
    expect(a2.events).toEqual(a1.events);
    expect(b1.events).toEqual([markerId, everyone]);
    expect(admin.events).toEqual([everyone]);
    for (const c of [a1, a2, b1, admin]) c.unsubscribe();
  });
});
