import { provisionOnFake } from '../helpers/twilio-setup.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { randomUsNumber, setUpInbox, type Inbox } from '../helpers/inbox.js';
import { errorCode, startTestServer, type TestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';
import { TEAM_FIELDS, agents, createTeam, listConversations, must, openConversations, setAvailability, teamNumber, type Agent } from './routing-setup.js';

let fake: FakeTwilio;
let server: TestServer;
let inbox: Inbox;
let other: Inbox;
let members: Agent[];

const CREATE = `mutation($input: CreateTeamInput!) { createTeam(input: $input) { ${TEAM_FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateTeamInput!) { updateTeam(id: $id, input: $input) { ${TEAM_FIELDS} } }`;
const DELETE = `mutation($id: ID!, $to: ID) { deleteTeam(id: $id, moveConversationsTo: $to) }`;
const UPDATE_NUMBER = `mutation($id: ID!, $input: UpdatePhoneNumberInput!) { updatePhoneNumber(id: $id, input: $input) {
  id type direction description messagingServiceSid team { id name } } }`;

beforeAll(async () => {
  fake = await startFakeTwilio();
  server = await startTestServer({ DISPATCHER_ENABLED: 'false' });
  inbox = await setUpInbox(server, fake, { tenantName: 'Teams' });
  other = await setUpInbox(server, fake, { tenantName: 'Elsewhere' });
  members = await agents(server, inbox.tenant.token, 2);
}, 240_000);
afterAll(async () => {
  await server?.close();
  await fake?.close();
});

describe('teams', () => {
  it('creates a team (ROUND_ROBIN, no limit unless given) with members of the tenant; names unique whatever their case', async () => {
    const res = await server.gql(CREATE, { input: { name: '  Billing ', memberIds: [members[0]!.id, members[0]!.id] } }, inbox.tenant.token);
    const team = must(res, 'createTeam').createTeam;
    expect(team).toMatchObject({ name: 'Billing', strategy: 'ROUND_ROBIN', agentCapacity: null, members: [{ id: members[0]!.id }] });
    expect(errorCode(await server.gql(CREATE, { input: { name: 'billing' } }, inbox.tenant.token))).toBe('CONFLICT');
    // Another tenant may use the name.
    expect((await server.gql(CREATE, { input: { name: 'Billing' } }, other.tenant.token)).errors).toBeUndefined();

    const mine = await server.gql(`query { me { teams { id name } } teams { id } }`, {}, members[0]!.token);
    expect(mine.data!.me.teams).toEqual([{ id: team.id, name: 'Billing' }]);
    expect(mine.data!.teams).toEqual([{ id: team.id }]);
  });

  it('refuses bad input, other tenants\' users and agents, storing nothing', async () => {
    const foreigner = (await agents(server, other.tenant.token, 1))[0]!;
    const cases: Array<[Record<string, unknown>, string, string?]> = [
      [{ name: 'Foreign', memberIds: [foreigner.id] }, 'NOT_FOUND'],
      [{ name: 'Made up', memberIds: ['00000000-0000-4000-8000-000000000000'] }, 'NOT_FOUND'],
      [{ name: 'Nope', memberIds: ['nope'] }, 'NOT_FOUND'],
      [{ name: '   ' }, 'BAD_USER_INPUT'],
      [{ name: 'x'.repeat(101) }, 'BAD_USER_INPUT'],
      [{ name: 'Zero', agentCapacity: 0 }, 'BAD_USER_INPUT'],
      [{ name: 'By an agent' }, 'FORBIDDEN', members[0]!.token],
    ];
    for (const [input, code, token] of cases) {
      expect(errorCode(await server.gql(CREATE, { input }, token ?? inbox.tenant.token)), JSON.stringify(input)).toBe(code);
    }
    const names = (await server.gql(`query { teams { name } }`, {}, inbox.tenant.token)).data!.teams.map((t: { name: string }) => t.name);
    for (const name of ['Foreign', 'Made up', 'Nope', 'Zero', 'By an agent']) expect(names).not.toContain(name);
  });

  it('updates: omitted fields stay, null clears the capacity, memberIds replaces the members', async () => {
    const team = await createTeam(server, inbox.tenant.token, { name: 'Support', strategy: 'LEAST_BUSY', agentCapacity: 5, memberIds: [members[0]!.id] });
    let res = await server.gql(UPDATE, { id: team.id, input: { memberIds: [members[1]!.id] } }, inbox.tenant.token);
    expect(must(res, 'update').updateTeam).toMatchObject({ name: 'Support', strategy: 'LEAST_BUSY', agentCapacity: 5, members: [{ id: members[1]!.id }] });
    res = await server.gql(UPDATE, { id: team.id, input: { agentCapacity: null, name: 'Support 2' } }, inbox.tenant.token);
    expect(must(res, 'update').updateTeam).toMatchObject({ name: 'Support 2', agentCapacity: null, members: [{ id: members[1]!.id }] });
    expect(errorCode(await server.gql(UPDATE, { id: team.id, input: { strategy: null } }, inbox.tenant.token))).toBe('BAD_USER_INPUT');
    expect(errorCode(await server.gql(UPDATE, { id: team.id, input: { name: 'billing' } }, inbox.tenant.token))).toBe('CONFLICT');
    expect(errorCode(await server.gql(UPDATE, { id: team.id, input: { name: 'Mine' } }, other.tenant.token))).toBe('NOT_FOUND');
  });

  it('adding members takes what waits in the queue', async () => {
    const team = await createTeam(server, inbox.tenant.token, { strategy: 'ROUND_ROBIN' });
    const number = await teamNumber(server, inbox, team.id);
    await openConversations(server, inbox, number.e164, 1);
    await setAvailability(server, members[1]!.token, 'ONLINE');
    expect(await listConversations(server, inbox.tenant.token, { teamId: team.id, unassigned: true })).toHaveLength(1);
    must(await server.gql(UPDATE, { id: team.id, input: { memberIds: [members[1]!.id] } }, inbox.tenant.token), 'update');
    expect(await listConversations(server, inbox.tenant.token, { teamId: team.id, assigneeId: members[1]!.id })).toHaveLength(1);
    await setAvailability(server, members[1]!.token, 'OFFLINE');
  });
});

describe('phone numbers and teams', () => {
  it('addPhoneNumber takes a team of the tenant; updatePhoneNumber sets and clears fields, validated as addPhoneNumber', async () => {
    const team = await createTeam(server, inbox.tenant.token, {});
    const foreignTeam = await createTeam(server, other.tenant.token, {});
    const add = `mutation($input: AddPhoneNumberInput!) { addPhoneNumber(input: $input) { id team { id } } }`;
    const [refusedNumber, addedNumber] = [randomUsNumber(), randomUsNumber()];
    provisionOnFake(inbox.account.id, refusedNumber);
    provisionOnFake(inbox.account.id, addedNumber);
    const refused = await server.gql(add, { input: { twilioAccountId: inbox.account.id, phoneNumber: refusedNumber, teamId: foreignTeam.id } }, inbox.tenant.token);
    expect(errorCode(refused)).toBe('NOT_FOUND');
    const added = must(await server.gql(add, { input: { twilioAccountId: inbox.account.id, phoneNumber: addedNumber, teamId: team.id } }, inbox.tenant.token), 'add').addPhoneNumber;
    expect(added.team).toEqual({ id: team.id });

    const sid = `MG${'a'.repeat(32)}`;
    let res = await server.gql(UPDATE_NUMBER, { id: added.id, input: { description: 'Front desk', messagingServiceSid: sid, direction: 'OUTBOUND' } }, inbox.tenant.token);
    expect(must(res, 'update').updatePhoneNumber).toMatchObject({ type: 'LONG_CODE', direction: 'OUTBOUND', description: 'Front desk', messagingServiceSid: sid, team: { id: team.id } });
    res = await server.gql(UPDATE_NUMBER, { id: added.id, input: { teamId: null, messagingServiceSid: null } }, inbox.tenant.token);
    expect(must(res, 'update').updatePhoneNumber).toMatchObject({ description: 'Front desk', messagingServiceSid: null, team: null, direction: 'OUTBOUND' });

    const bad: Array<[Record<string, unknown>, string]> = [
      [{ messagingServiceSid: 'MG123', description: 'changed' }, 'BAD_USER_INPUT'],
      [{ type: 'SHORT_CODE' }, 'BAD_USER_INPUT'],
      [{ direction: null }, 'BAD_USER_INPUT'],
      [{ teamId: foreignTeam.id }, 'NOT_FOUND'],
    ];
    for (const [input, code] of bad) expect(errorCode(await server.gql(UPDATE_NUMBER, { id: added.id, input }, inbox.tenant.token)), JSON.stringify(input)).toBe(code);
    expect(errorCode(await server.gql(UPDATE_NUMBER, { id: added.id, input: { description: 'x' } }, other.tenant.token))).toBe('NOT_FOUND');
    expect(errorCode(await server.gql(UPDATE_NUMBER, { id: added.id, input: { description: 'x' } }, members[0]!.token))).toBe('FORBIDDEN');
    const now = must(await server.gql(`query { phoneNumbers { id description team { id } } }`, {}, inbox.tenant.token), 'list').phoneNumbers;
    expect(now.find((n: { id: string }) => n.id === added.id)).toEqual({ id: added.id, description: 'Front desk', team: null });
  });

  it('deleteTeam moves its conversations to another team (routed there) or makes them team-less; its numbers lose the team', async () => {
    const [x, y] = members as [Agent, Agent];
    const from = await createTeam(server, inbox.tenant.token, { strategy: 'MANUAL', memberIds: [x.id] });
    const to = await createTeam(server, inbox.tenant.token, { strategy: 'ROUND_ROBIN', memberIds: [y.id] });
    const number = await teamNumber(server, inbox, from.id);
    await openConversations(server, inbox, number.e164, 2);
    const moving = await waitFor(async () => {
      const l = await listConversations(server, inbox.tenant.token, { teamId: from.id });
      return l.length === 2 ? l : undefined;
    });
    await setAvailability(server, y.token, 'ONLINE');
    expect(errorCode(await server.gql(DELETE, { id: from.id, to: from.id }, inbox.tenant.token))).toBe('BAD_USER_INPUT');
    expect(errorCode(await server.gql(DELETE, { id: from.id }, x.token))).toBe('FORBIDDEN');
    expect(errorCode(await server.gql(DELETE, { id: from.id }, other.tenant.token))).toBe('NOT_FOUND');

    expect(must(await server.gql(DELETE, { id: from.id, to: to.id }, inbox.tenant.token), 'delete').deleteTeam).toBe(true);
    const moved = await listConversations(server, inbox.tenant.token, { teamId: to.id });
    expect(moved.map((c) => c.id).sort()).toEqual(moving.map((c) => c.id).sort());
    expect(moved.every((c) => c.assignee?.id === y.id)).toBe(true);
    const numbers = must(await server.gql(`query { phoneNumbers { id team { id } } }`, {}, inbox.tenant.token), 'list').phoneNumbers;
    expect(numbers.find((n: { id: string }) => n.id === number.id).team).toBeNull();
    expect((await server.gql(`query { teams { id } }`, {}, inbox.tenant.token)).data!.teams.map((t: { id: string }) => t.id)).not.toContain(from.id);

    // Without a destination: team-less, assignees kept, visible to every agent.
    must(await server.gql(DELETE, { id: to.id }, inbox.tenant.token), 'delete');
    const teamless = await listConversations(server, x.token, { phoneNumberId: number.id });
    expect(teamless).toHaveLength(2);
    expect(teamless.every((c) => c.team === null && c.assignee?.id === y.id)).toBe(true);
    await setAvailability(server, y.token, 'OFFLINE');
  });
});
