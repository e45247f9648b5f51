import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { customerTexts, randomUsNumber, setUpInbox, type Inbox } from '../helpers/inbox.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { agents, createTeam, must, teamNumber, type Agent } from '../routing/routing-setup.js';

// conversations(search:) keeps the visibility rule of issue 10: an agent of team A never finds a
// conversation of team B by any of its words, its contact's name or number; an ADMIN does.

let server: TestServer;
let fake: FakeTwilio;
let inbox: Inbox;
let agentA: Agent;
let agentB: Agent;
const ids = { a: '', b: '', teamless: '' };
const phones = { a: randomUsNumber(), b: randomUsNumber(), teamless: randomUsNumber() };

beforeAll(async () => {
  [server, fake] = await Promise.all([startTestServer({ DISPATCHER_ENABLED: 'false', ROUTING_SWEEP_INTERVAL_MS: '3600000' }), startFakeTwilio()]);
  inbox = await setUpInbox(server, fake, { tenantName: 'Search visibility' });
  [agentA, agentB] = (await agents(server, inbox.tenant.token, 2)) as [Agent, Agent];
  // MANUAL teams: nobody is assigned, so each conversation is seen through its team only.
  const teamA = await createTeam(server, inbox.tenant.token, { name: 'Team A', strategy: 'MANUAL', memberIds: [agentA.id] });
  const teamB = await createTeam(server, inbox.tenant.token, { name: 'Team B', strategy: 'MANUAL', memberIds: [agentB.id] });
  const numberA = await teamNumber(server, inbox, teamA.id);
  const numberB = await teamNumber(server, inbox, teamB.id);
  const via = (number: { id: string; e164: string }): Inbox => ({ ...inbox, number });
  ids.a = await customerTexts(server, via(numberA), phones.a, 'My walrus order is late');
  ids.b = await customerTexts(server, via(numberB), phones.b, 'The walrus invoice shows a quokka surcharge');
  ids.teamless = await customerTexts(server, inbox, phones.teamless, 'A walrus question for anyone');
  const contactB = must(await server.gql(`query($id: ID!) { conversation(id: $id) { contact { id } } }`, { id: ids.b }, inbox.tenant.token), 'conversation')
    .conversation.contact.id as string;
  must(await server.gql(`mutation($id: ID!) { updateContact(id: $id, input: { name: "Zoë Brávo" }) { id } }`, { id: contactB }, inbox.tenant.token), 'name');
}, 240_000);
afterAll(async () => {
  await Promise.all([server?.close(), fake?.close()]);
});

async function search(token: string, term: string): Promise<string[]> {
  const res = must(await server.gql(`query($s: String) { conversations(first: 50, search: $s) { edges { node { id } } } }`, { s: term }, token), 'search');
  return (res.conversations.edges as Array<{ node: { id: string } }>).map((e) => e.node.id).sort();
}

describe('search and visibility', () => {
  it("a word in every conversation: the agent of team A finds team A's and the team-less one, never team B's; ADMIN finds all", async () => {
    expect(await search(agentA.token, 'walrus')).toEqual([ids.a, ids.teamless].sort());
    expect(await search(agentB.token, 'WALRUS')).toEqual([ids.b, ids.teamless].sort());
    expect(await search(inbox.tenant.token, 'walrus')).toEqual([ids.a, ids.b, ids.teamless].sort());
  }, 180_000); // a loaded, shared machine

  it("team B's own words, contact name and number find nothing for the agent of team A", async () => {
    for (const term of ['quokka', 'surcharge', 'zoe bravo', phones.b.slice(-7)]) {
      expect(await search(agentA.token, term), term).toEqual([]);
      expect(await search(agentB.token, term), term).toEqual([ids.b]);
      expect(await search(inbox.tenant.token, term), term).toEqual([ids.b]);
    }
  }, 180_000); // a loaded, shared machine
});
