import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent } from '../helpers/factories.js';
import { startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { customerTexts, randomUsNumber, setUpInbox, type Inbox } from '../helpers/inbox.js';
import { errorCode, startTestServer, type TestServer } from '../helpers/test-server.js';

let server: TestServer;
let fake: FakeTwilio;
let a: Inbox;
let b: Inbox;

beforeAll(async () => {
  fake = await startFakeTwilio();
  server = await startTestServer();
  [a, b] = await Promise.all([setUpInbox(server, fake), setUpInbox(server, fake, { tenantName: 'Other Co' })]);
});
afterAll(async () => {
  await server?.close();
  await fake?.close();
});

const LOG = `query($first: Int, $after: String, $actorId: ID, $action: String) {
  auditLog(first: $first, after: $after, actorId: $actorId, action: $action) {
    edges { cursor node { id action targetType targetId clientAddress at actor { id email } apiKey { id name } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

interface AuditNode {
  id: string;
  action: string;
  targetType: string;
  targetId: string | null;
  clientAddress: string | null;
  at: string;
  actor: { id: string; email: string } | null;
  apiKey: { id: string; name: string } | null;
}

async function auditLog(token: string, vars: Record<string, unknown> = {}): Promise<AuditNode[]> {
  const res = await server.gql(LOG, { first: 100, ...vars }, token);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data!.auditLog.edges.map((e: { node: AuditNode }) => e.node);
}

describe('audit trail', () => {
  it('records set-up, people, keys and ownership changes with actor, target and address', async () => {
    const agent = await createAgent(server, a.tenant.token);
    const conversationId = await customerTexts(server, a, randomUsNumber(), 'Hi');
    const assign = `mutation($c: ID!, $u: ID) { assignConversation(conversationId: $c, assigneeId: $u) { id } }`;
    expect((await server.gql(assign, { c: conversationId, u: agent.id }, a.tenant.token)).errors).toBeUndefined();

    const key = await server.gql(
      `mutation { createApiKey(input: { name: "Router", role: AGENT }) { secret apiKey { id } } }`,
      {},
      a.tenant.token,
    );
    const { secret, apiKey } = key.data!.createApiKey as { secret: string; apiKey: { id: string } };
    // What a key does is audited under the key.
    expect((await server.gql(assign, { c: conversationId, u: null }, secret)).errors).toBeUndefined();
    expect((await server.gql(`mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, { id: apiKey.id }, a.tenant.token)).errors).toBeUndefined();

    const log = await auditLog(a.tenant.token);
    const actions = log.map((e) => e.action);
    // Newest first.
    expect(actions.slice(0, 4)).toEqual(['api_key.revoke', 'conversation.unassign', 'api_key.create', 'conversation.assign']);
    expect(actions).toEqual(expect.arrayContaining(['user.create', 'twilio_account.connect', 'phone_number.add']));

    const byAction = (action: string) => log.find((e) => e.action === action)!;
    expect(byAction('user.create')).toMatchObject({ targetType: 'user', targetId: agent.id, actor: { id: a.tenant.userId }, apiKey: null });
    expect(byAction('phone_number.add')).toMatchObject({ targetType: 'phone_number', targetId: a.number.id });
    expect(byAction('conversation.assign')).toMatchObject({ targetType: 'conversation', targetId: conversationId, actor: { id: a.tenant.userId } });
    expect(byAction('conversation.unassign')).toMatchObject({ actor: null, apiKey: { id: apiKey.id, name: 'Router' } });
    expect(byAction('api_key.revoke')).toMatchObject({ targetType: 'api_key', targetId: apiKey.id, actor: { id: a.tenant.userId } });
    expect(byAction('api_key.revoke').clientAddress).toMatch(/127\.0\.0\.1/);

    // Filters: by actor (user or key) and by action, exact or prefix.
    expect((await auditLog(a.tenant.token, { actorId: apiKey.id })).map((e) => e.action)).toEqual(['conversation.unassign']);
    expect((await auditLog(a.tenant.token, { action: 'api_key.create' })).map((e) => e.targetId)).toEqual([apiKey.id]);
    expect((await auditLog(a.tenant.token, { action: 'api_key.*' })).map((e) => e.action)).toEqual(['api_key.revoke', 'api_key.create']);
    expect(await auditLog(a.tenant.token, { actorId: 'not-a-uuid' })).toEqual([]);
  });

  it('records teams, people, contacts, accounts and numbers changes in the transaction of the change', async () => {
    const c = await setUpInbox(server, fake, { tenantName: 'Audited Co' });
    const ok = async (query: string, variables: Record<string, unknown>) => {
      const res = await server.gql(query, variables, c.tenant.token);
      if (res.errors) throw new Error(JSON.stringify(res.errors));
      return res.data!;
    };
    const agent = await createAgent(server, c.tenant.token);
    const created = await ok(`mutation($input: CreateTeamInput!) { createTeam(input: $input) { id } }`, { input: { name: 'Front desk', memberIds: [agent.id] } });
    const teamId = created.createTeam.id as string;
    await ok(`mutation($id: ID!, $input: UpdateTeamInput!) { updateTeam(id: $id, input: $input) { id } }`, { id: teamId, input: { name: 'Front office' } });
    await ok(`mutation($id: ID!, $input: UpdateTeamInput!) { updateTeam(id: $id, input: $input) { id } }`, { id: teamId, input: { memberIds: [] } });
    await ok(`mutation($id: ID!) { deleteTeam(id: $id) }`, { id: teamId });
    await ok(`mutation($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id } }`, { id: agent.id, input: { role: 'ADMIN' } });
    await ok(`mutation($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id } }`, { id: agent.id, input: { active: false } });

    const conversationId = await customerTexts(server, c, randomUsNumber(), 'Hello');
    const contactId = (await ok(`query($id: ID!) { conversation(id: $id) { contact { id } } }`, { id: conversationId })).conversation.contact.id as string;
    const contact = `mutation($id: ID!, $input: UpdateContactInput!) { updateContact(id: $id, input: $input) { id blocked } }`;
    await ok(contact, { id: contactId, input: { blocked: true } });
    await ok(contact, { id: contactId, input: { blocked: false } });
    await ok(contact, { id: contactId, input: { name: 'Renamed only' } }); // not a block change: no event

    await ok(`mutation($id: ID!, $input: UpdatePhoneNumberInput!) { updatePhoneNumber(id: $id, input: $input) { id } }`, { id: c.number.id, input: { description: 'Front line' } });
    const account = `mutation($id: ID!, $input: UpdateTwilioAccountInput!) { updateTwilioAccount(id: $id, input: $input) { id } }`;
    await ok(account, { id: c.account.id, input: { friendlyName: 'Main line' } });
    await ok(account, { id: c.account.id, input: { authToken: fake.createSecondaryToken(c.account.accountSid) } });
    // A refused token changes nothing and writes nothing.
    expect(errorCode(await server.gql(account, { id: c.account.id, input: { authToken: 'f'.repeat(32) } }, c.tenant.token))).toBe('TWILIO_AUTH_FAILED');
    await ok(`mutation($id: ID!) { disconnectTwilioAccount(id: $id) }`, { id: c.account.id });

    const log = await auditLog(c.tenant.token);
    const mine = log.filter((e) => !['user.create', 'twilio_account.connect', 'phone_number.add'].includes(e.action));
    expect(mine.map((e) => [e.action, e.targetId]).reverse()).toEqual([
      ['team.create', teamId],
      ['team.update', teamId],
      ['team.set_members', teamId],
      ['team.delete', teamId],
      ['user.change_role', agent.id],
      ['user.deactivate', agent.id],
      ['contact.block', contactId],
      ['contact.unblock', contactId],
      ['phone_number.update', c.number.id],
      ['twilio_account.update', c.account.id],
      ['twilio_account.rotate_token', c.account.id],
      ['twilio_account.disconnect', c.account.id],
    ]);
    for (const e of mine) expect(e).toMatchObject({ actor: { id: c.tenant.userId }, apiKey: null });
    expect(log.find((e) => e.action === 'contact.block')).toMatchObject({ targetType: 'contact' });
    expect(log.find((e) => e.action === 'user.deactivate')).toMatchObject({ targetType: 'user' });
    expect(log.find((e) => e.action === 'team.create')).toMatchObject({ targetType: 'team' });
    expect(log.find((e) => e.action === 'twilio_account.disconnect')).toMatchObject({ targetType: 'twilio_account' });
    // Another tenant sees none of it.
    expect((await auditLog(a.tenant.token, { action: 'team.*' })).map((e) => e.targetId)).not.toContain(teamId);
  });

  it('pages newest first with cursors', async () => {
    const first = await server.gql(LOG, { first: 2 }, a.tenant.token);
    const page1 = first.data!.auditLog;
    expect(page1.edges).toHaveLength(2);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const second = await server.gql(LOG, { first: 2, after: page1.pageInfo.endCursor }, a.tenant.token);
    const ids = [...page1.edges, ...second.data!.auditLog.edges].map((e: { node: AuditNode }) => Number(e.node.id));
    expect(ids).toEqual([...ids].sort((x, y) => y - x));
    expect(new Set(ids).size).toBe(4);
    expect(errorCode(await server.gql(LOG, { after: 'bogus' }, a.tenant.token))).toBe('BAD_USER_INPUT');
  });

  it('is ADMIN only, per tenant, and a change that fails writes nothing', async () => {
    const agent = await createAgent(server, a.tenant.token);
    expect(errorCode(await server.gql(LOG, {}, agent.token))).toBe('FORBIDDEN');
    const before = await auditLog(a.tenant.token, { action: 'user.create' });
    const dup = await server.gql(
      `mutation($input: CreateAgentInput!) { createAgent(input: $input) { id } }`,
      { input: { email: agent.email, name: 'Twice', password: 'long enough pw', role: 'AGENT' } },
      a.tenant.token,
    );
    expect(errorCode(dup)).toBe('CONFLICT');
    expect(await auditLog(a.tenant.token, { action: 'user.create' })).toEqual(before);
    const other = await auditLog(b.tenant.token);
    expect(other.every((e) => e.actor === null || e.actor.id === b.tenant.userId)).toBe(true);
    expect(other.map((e) => e.targetId)).not.toContain(agent.id);
  });
});
