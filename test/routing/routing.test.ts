import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenedConversation } from '../../src/shared/routing-hooks.js';
import { startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { randomUsNumber, setUpInbox, type Inbox } from '../helpers/inbox.js';
import { collect, subscribed } from '../helpers/live.js';
import { errorCode, startTestServer, type TestServer } from '../helpers/test-server.js';
import { sendInbound } from '../helpers/twilio-setup.js';
import { waitFor } from '../helpers/wait.js';
import {
  agents,
  createTeam,
  listConversations,
  must,
  openConversations,
  setAvailability,
  tally,
  teamNumber,
  type Agent,
} from './routing-setup.js';

let fake: FakeTwilio;
let server: TestServer;

beforeAll(async () => {
  fake = await startFakeTwilio();
  // No periodic sweep here (only the one at start): every assignment below comes from its trigger.
  server = await startTestServer({ DISPATCHER_ENABLED: 'false', ROUTING_SWEEP_INTERVAL_MS: '3600000' });
}, 240_000);
afterAll(async () => {
  await server?.close();
  await fake?.close();
});

const RESOLVE = `mutation($c: ID!) { setConversationStatus(conversationId: $c, status: RESOLVED) { id } }`;
const TRANSFER = `mutation($c: ID!, $t: ID, $u: ID) { transferConversation(conversationId: $c, teamId: $t, assigneeId: $u) { id team { id } assignee { id } } }`;

/** A tenant, `n` ONLINE agents in one team of this strategy and capacity, and a number routed to it. */
async function teamSetUp(n: number, strategy: string, agentCapacity: number | null, online = true) {
  const inbox = await setUpInbox(server, fake, { tenantName: `Routing ${Math.random()}` });
  const members = await agents(server, inbox.tenant.token, n);
  const team = await createTeam(server, inbox.tenant.token, { strategy, agentCapacity, memberIds: members.map((m) => m.id) });
  if (online) for (const m of members) await setAvailability(server, m.token, 'ONLINE');
  const number = await teamNumber(server, inbox, team.id);
  return { inbox, members, team, number };
}

async function settled(inbox: Inbox, teamId: string, expectAssigned: number) {
  return waitFor(
    async () => {
      const list = await listConversations(server, inbox.tenant.token, { teamId });
      return list.filter((c) => c.assignee).length >= expectAssigned ? list : undefined;
    },
    { timeoutMs: 30_000, what: `${expectAssigned} assigned conversations` },
  );
}

describe('round robin under concurrency', () => {
  it('50 conversations opened at once on 3 ONLINE agents with capacity 20 end 17/17/16, none lost', async () => {
    const { inbox, members, team, number } = await teamSetUp(3, 'ROUND_ROBIN', 20);
    await openConversations(server, inbox, number.e164, 50);
    const list = await settled(inbox, team.id, 50);
    expect(list).toHaveLength(50);
    const { perAgent, unassigned } = tally(list, members.map((m) => m.id));
    expect(unassigned).toBe(0);
    expect([...perAgent].sort()).toEqual([16, 17, 17]);
  }, 120_000);

  it('40 opened at once with capacity 10 leave 10 each and 10 waiting; freed capacity takes the oldest', async () => {
    const { inbox, members, team, number } = await teamSetUp(3, 'ROUND_ROBIN', 10);
    await openConversations(server, inbox, number.e164, 40);
    let list = await settled(inbox, team.id, 30);
    expect(list).toHaveLength(40);
    expect(tally(list, members.map((m) => m.id))).toEqual({ perAgent: [10, 10, 10], unassigned: 10 });
    // Capacity is never exceeded, even later.
    const [latest] = await openConversations(server, inbox, number.e164, 1, 'newest');
    list = await listConversations(server, inbox.tenant.token, { teamId: team.id, unassigned: true });
    expect(list).toHaveLength(11);

    // Agent 0 resolves one: one of the ten older waiting conversations is theirs, not the newest.
    const theirs = (await listConversations(server, members[0]!.token, { assigneeId: members[0]!.id }))[0]!;
    must(await server.gql(RESOLVE, { c: theirs.id }, members[0]!.token), 'resolve');
    list = await listConversations(server, inbox.tenant.token, { teamId: team.id, unassigned: true });
    expect(list).toHaveLength(10);
    expect(list.map((c) => c.contact.phoneNumber)).toContain(latest);
    const open = await listConversations(server, inbox.tenant.token, { teamId: team.id, assigneeId: members[0]!.id, status: 'OPEN' });
    expect(open).toHaveLength(10);
  }, 120_000);
});

describe('strategies, availability and capacity', () => {
  it('LEAST_BUSY picks the member with the fewest open conversations, ties to the least recently assigned', async () => {
    const { inbox, members, team, number } = await teamSetUp(3, 'LEAST_BUSY', null);
    const [a, b, c] = members as [Agent, Agent, Agent];
    // Manual assignments (capacity does not apply): a holds 2, c holds 1, b none.
    const manual = await openConversations(server, inbox, inbox.number.e164, 3);
    const teamless = await listConversations(server, inbox.tenant.token, { phoneNumberId: inbox.number.id });
    expect(teamless.map((x) => x.contact.phoneNumber).sort()).toEqual([...manual].sort());
    const ASSIGN = `mutation($c: ID!, $u: ID) { assignConversation(conversationId: $c, assigneeId: $u) { id } }`;
    for (const [i, who] of [a, a, c].entries()) must(await server.gql(ASSIGN, { c: teamless[i]!.id, u: who.id }, inbox.tenant.token), 'assign');

    const order: string[] = [];
    for (let i = 0; i < 3; i++) {
      const [customer] = await openConversations(server, inbox, number.e164, 1);
      const conv = await waitFor(async () => (await listConversations(server, inbox.tenant.token, { teamId: team.id })).find((x) => x.contact.phoneNumber === customer && x.assignee));
      order.push(conv.assignee!.id);
    }
    // b (0) → then b and c tie at 1: c was never auto-assigned → c → then a 2, b 1, c 2 → b.
    expect(order).toEqual([b.id, c.id, b.id]);
  }, 120_000);

  it('only ONLINE members get conversations; coming ONLINE takes the queue, oldest first, within capacity', async () => {
    const { inbox, members, team, number } = await teamSetUp(2, 'ROUND_ROBIN', 2, false);
    const [a, b] = members as [Agent, Agent];
    await setAvailability(server, a.token, 'AWAY');
    const customers: string[] = [];
    for (let i = 0; i < 3; i++) customers.push(...(await openConversations(server, inbox, number.e164, 1, `n${i}`)));
    let list = await listConversations(server, inbox.tenant.token, { teamId: team.id });
    expect(tally(list, [a.id, b.id])).toEqual({ perAgent: [0, 0], unassigned: 3 });

    await setAvailability(server, b.token, 'ONLINE');
    list = await listConversations(server, inbox.tenant.token, { teamId: team.id });
    const mine = list.filter((c) => c.assignee?.id === b.id).map((c) => c.contact.phoneNumber);
    expect(mine.sort()).toEqual(customers.slice(0, 2).sort());
    expect(list.find((c) => c.contact.phoneNumber === customers[2])!.assignee).toBeNull();

    // Going OFFLINE never unassigns.
    await setAvailability(server, b.token, 'OFFLINE');
    list = await listConversations(server, inbox.tenant.token, { teamId: team.id, assigneeId: b.id });
    expect(list).toHaveLength(2);
  }, 120_000);

  it("a deactivated agent's open conversations go to the remaining ONLINE members, never back to them", async () => {
    const { inbox, members, team, number } = await teamSetUp(2, 'ROUND_ROBIN', null);
    const [a, b] = members as [Agent, Agent];
    await openConversations(server, inbox, number.e164, 4);
    let list = await settled(inbox, team.id, 4);
    expect(tally(list, [a.id, b.id])).toEqual({ perAgent: [2, 2], unassigned: 0 });
    // Still marked ONLINE when deactivated: the flag alone must keep work away from them.
    must(await server.gql(`mutation($id: ID!) { updateUser(id: $id, input: { active: false }) { id active } }`, { id: a.id }, inbox.tenant.token), 'deactivate');
    list = await waitFor(async () => {
      const l = await listConversations(server, inbox.tenant.token, { teamId: team.id });
      return l.filter((c) => c.assignee?.id === b.id).length === 4 ? l : undefined;
    }, { what: "a's conversations routed to b" });
    expect(tally(list, [a.id, b.id])).toEqual({ perAgent: [0, 4], unassigned: 0 });
    await openConversations(server, inbox, number.e164, 1);
    await settled(inbox, team.id, 5);
    expect(await listConversations(server, inbox.tenant.token, { assigneeId: a.id })).toEqual([]);
  }, 120_000);

  it('MANUAL assigns nobody: the conversation waits in the queue', async () => {
    const { inbox, team, number } = await teamSetUp(1, 'MANUAL', null);
    const [customer] = await openConversations(server, inbox, number.e164, 1);
    // A marker afterwards on an automatic team proves routing ran meanwhile.
    const auto = await teamSetUp(1, 'ROUND_ROBIN', null);
    await openConversations(server, auto.inbox, auto.number.e164, 1);
    await settled(auto.inbox, auto.team.id, 1);
    const list = await listConversations(server, inbox.tenant.token, { teamId: team.id });
    expect(list).toEqual([expect.objectContaining({ assignee: null, contact: { phoneNumber: customer } })]);
  }, 120_000);

  it('a conversation the customer reopens goes back to its previous assignee when still eligible', async () => {
    const { inbox, members, team, number } = await teamSetUp(2, 'ROUND_ROBIN', null);
    const customer = randomUsNumber('650');
    await sendInbound(server, inbox.account, { from: customer, to: number.e164, body: 'first' });
    const first = (await settled(inbox, team.id, 1))[0]!;
    must(await server.gql(RESOLVE, { c: first.id }, inbox.tenant.token), 'resolve');
    // Round robin's turn would now go to the other member; the returning customer gets theirs back.
    await sendInbound(server, inbox.account, { from: customer, to: number.e164, body: 'again' });
    const list = await settled(inbox, team.id, 2);
    const reopened = list.find((c) => c.id !== first.id)!;
    expect(reopened.assignee!.id).toBe(first.assignee!.id);
    expect(members.map((m) => m.id)).toContain(first.assignee!.id);
  }, 120_000);
});

describe('transferConversation', () => {
  it('moves to another team (routed by its strategy) and/or to an agent, live for the new assignee', async () => {
    const one = await teamSetUp(1, 'ROUND_ROBIN', null);
    const [x] = one.members as [Agent];
    const others = await agents(server, one.inbox.tenant.token, 2);
    const two = await createTeam(server, one.inbox.tenant.token, { strategy: 'ROUND_ROBIN', memberIds: others.map((o) => o.id) });
    await setAvailability(server, others[0]!.token, 'ONLINE');
    const [customer] = await openConversations(server, one.inbox, one.number.e164, 1);
    const conv = (await settled(one.inbox, one.team.id, 1)).find((c) => c.contact.phoneNumber === customer)!;
    expect(conv.assignee!.id).toBe(x.id);

    const live = collect(server.ws(others[0]!.token), `subscription { conversationUpdated { id assignee { id } team { id } } }`);
    await subscribed(server.app.deps.events, 1);
    const moved = await server.gql(TRANSFER, { c: conv.id, t: two.id }, x.token);
    // The caller gets the answer though they no longer hold it.
    expect(must(moved, 'transfer').transferConversation).toEqual({ id: conv.id, team: { id: two.id }, assignee: { id: others[0]!.id } });
    const event = await waitFor(() => live.events.find((e) => e.id === conv.id && e.assignee?.id === others[0]!.id), { what: 'the new assignee learns it live' });
    expect(event.team).toEqual({ id: two.id });

    // To a named member of a team (capacity ignored); to a non-member: refused; to an agent only.
    const toB = await server.gql(TRANSFER, { c: conv.id, t: two.id, u: others[1]!.id }, one.inbox.tenant.token);
    expect(must(toB, 'transfer').transferConversation.assignee).toEqual({ id: others[1]!.id });
    const notMember = await server.gql(TRANSFER, { c: conv.id, t: two.id, u: x.id }, one.inbox.tenant.token);
    expect(errorCode(notMember)).toBe('BAD_USER_INPUT');
    const agentOnly = await server.gql(TRANSFER, { c: conv.id, u: x.id }, one.inbox.tenant.token);
    expect(must(agentOnly, 'transfer').transferConversation).toEqual({ id: conv.id, team: { id: two.id }, assignee: { id: x.id } });
    expect(errorCode(await server.gql(TRANSFER, { c: conv.id }, one.inbox.tenant.token))).toBe('BAD_USER_INPUT');

    // Another tenant's team, user or conversation: NOT_FOUND, nothing changed.
    const other = await teamSetUp(1, 'ROUND_ROBIN', null, false);
    expect(errorCode(await server.gql(TRANSFER, { c: conv.id, t: other.team.id }, one.inbox.tenant.token))).toBe('NOT_FOUND');
    expect(errorCode(await server.gql(TRANSFER, { c: conv.id, u: other.members[0]!.id }, one.inbox.tenant.token))).toBe('NOT_FOUND');
    expect(errorCode(await server.gql(TRANSFER, { c: conv.id, u: x.id }, other.inbox.tenant.token))).toBe('NOT_FOUND');
    const after = await listConversations(server, one.inbox.tenant.token, { teamId: two.id });
    expect(after.find((c) => c.id === conv.id)!.assignee).toEqual({ id: x.id });
  }, 120_000);
});

describe('hooks and the sweep', () => {
  let swept: TestServer;
  beforeAll(async () => {
    swept = await startTestServer({ DISPATCHER_ENABLED: 'false', ROUTING_SWEEP_INTERVAL_MS: '300' });
  }, 240_000);
  afterAll(async () => {
    await swept?.close();
  });

  it('onQueued hears of an opened conversation nobody could take; a beforeRouting hold is honoured, then swept', async () => {
    const inbox = await setUpInbox(swept, fake, { tenantName: 'Hooks' });
    const [agent] = await agents(swept, inbox.tenant.token, 1);
    const team = await createTeam(swept, inbox.tenant.token, { strategy: 'ROUND_ROBIN', memberIds: [agent!.id] });
    const number = await teamNumber(swept, inbox, team.id);
    const queued: OpenedConversation[] = [];
    swept.app.deps.routing.onQueued((q) => void queued.push(q));
    const holdFor = new Map<string, Date>();
    swept.app.deps.routing.beforeRouting(async (o) => holdFor.get(o.tenantId));

    await sendInbound(swept, inbox.account, { from: randomUsNumber('650'), to: number.e164, body: 'anyone?' });
    const [q] = await waitFor(() => (queued.length > 0 ? queued : undefined), { what: 'onQueued' });
    expect(q).toMatchObject({ tenantId: inbox.tenant.tenantId, teamId: team.id });

    // Held for 1.5 s although the agent is ONLINE; the sweep assigns it once the hold ends.
    await setAvailability(swept, agent!.token, 'ONLINE');
    holdFor.set(inbox.tenant.tenantId, new Date(Date.now() + 1500));
    const held = randomUsNumber('650');
    await sendInbound(swept, inbox.account, { from: held, to: number.e164, body: 'closed?' });
    const row = await waitFor(async () => {
      const list = await listConversations(swept, inbox.tenant.token, { teamId: team.id });
      return list.find((c) => c.contact.phoneNumber === held);
    });
    const started = Date.now();
    await waitFor(async () => {
      const list = await listConversations(swept, inbox.tenant.token, { teamId: team.id, assigneeId: agent!.id });
      return list.some((c) => c.id === row.id);
    }, { timeoutMs: 15_000, what: 'the held conversation assigned after its hold' });
    expect(Date.now() - started).toBeGreaterThan(500);
  }, 120_000);

  it('routes a conversation left unassigned in a queue (as a crash would leave it) at the next sweep', async () => {
    const inbox = await setUpInbox(swept, fake, { tenantName: 'Crash' });
    const [agent] = await agents(swept, inbox.tenant.token, 1);
    const team = await createTeam(swept, inbox.tenant.token, { strategy: 'LEAST_BUSY', memberIds: [agent!.id] });
    const number = await teamNumber(swept, inbox, team.id);
    await setAvailability(swept, agent!.token, 'ONLINE');
    await openConversations(swept, inbox, number.e164, 1);
    const [conv] = await waitFor(async () => {
      const list = await listConversations(swept, inbox.tenant.token, { teamId: team.id, unassigned: false });
      return list.length === 1 ? list : undefined;
    });
    // Written behind the server's back: no trigger, only the sweep can find it.
    await swept.app.deps.db.execute(sql`update conversations set assignee_id = null where id = ${conv!.id}::uuid`);
    await waitFor(async () => {
      const list = await listConversations(swept, inbox.tenant.token, { teamId: team.id, assigneeId: agent!.id });
      return list.length === 1;
    }, { timeoutMs: 15_000, what: 'the sweep to route it' });
  }, 120_000);
});
