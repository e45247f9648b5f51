import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, signUpTenant } from '../helpers/factories.js';
import { startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { customerTexts, randomUsNumber, setUpInbox } from '../helpers/inbox.js';
import { collect, subscribed } from '../helpers/live.js';
import { usingPostgres } from '../helpers/test-db.js';
import { errorCode, startTestServer, type TestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';
import { Role } from '../../src/modules/users/role.js';

const ME = '{ me { id role active } }';
const UPDATE = 'mutation($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id name role active } }';
const LOG_IN = 'mutation($input: LogInInput!) { logIn(input: $input) { token } }';
const USERS = 'query($role: Role, $active: Boolean) { users(role: $role, active: $active) { id email role active } }';

let server: TestServer;
let fake: FakeTwilio;
beforeAll(async () => {
  [server, fake] = await Promise.all([startTestServer(), startFakeTwilio()]);
});
afterAll(async () => {
  await Promise.all([server?.close(), fake?.close()]);
});

/** A socket with one live subscription; records how it was closed. */
async function openSocket(s: TestServer, token: string) {
  const closed: Array<{ code: number; reason: string; at: number }> = [];
  const client: Client = s.ws(token, {
    onNonLazyError: () => {},
    on: { closed: (e: unknown) => closed.push({ code: (e as { code: number }).code, reason: String((e as { reason: unknown }).reason), at: Date.now() }) },
  });
  const before = s.app.deps.events.subscriberCount;
  collect(client, 'subscription { conversationUpdated { id } }');
  await subscribed(s.app.deps.events, before + 1);
  return { client, closed };
}

describe('users and updateUser', () => {
  it('lists the tenant’s members, filtered by role and active; agents may list', async () => {
    const t = await signUpTenant(server);
    const agent = await createAgent(server, t.token);
    const all = await server.gql(USERS, {}, agent.token);
    expect(all.data!.users.map((u: any) => u.id).sort()).toEqual([t.userId, agent.id].sort());
    expect((await server.gql(USERS, { role: 'AGENT' }, t.token)).data!.users.map((u: any) => u.id)).toEqual([agent.id]);
    expect((await server.gql(USERS, { active: false }, t.token)).data!.users).toEqual([]);
    expect(errorCode(await server.gql(UPDATE, { id: agent.id, input: { name: 'X' } }, agent.token))).toBe('FORBIDDEN');
  });

  it('deactivating an agent: next HTTP request UNAUTHENTICATED, socket closed within 1 s with 4403 "user deactivated", conversations unassigned', async () => {
    const inbox = await setUpInbox(server, fake);
    const agent = await createAgent(server, inbox.tenant.token);
    const conversationId = await customerTexts(server, inbox, randomUsNumber(), 'help');
    const assigned = await server.gql(
      'mutation($c: ID!, $a: ID) { assignConversation(conversationId: $c, assigneeId: $a) { id assignee { id } } }',
      { c: conversationId, a: agent.id },
      inbox.tenant.token,
    );
    expect(assigned.data!.assignConversation.assignee.id).toBe(agent.id);
    const { closed } = await openSocket(server, agent.token);
    const adminFeed = collect(server.ws(inbox.tenant.token), 'subscription { conversationUpdated { id assignee { id } } }');
    await subscribed(server.app.deps.events, server.app.deps.events.subscriberCount);

    const started = Date.now();
    const res = await server.gql(UPDATE, { id: agent.id, input: { active: false } }, inbox.tenant.token);
    expect(res.errors).toBeUndefined();
    expect(res.data!.updateUser).toMatchObject({ id: agent.id, active: false });

    expect(errorCode(await server.gql(ME, {}, agent.token))).toBe('UNAUTHENTICATED');
    await waitFor(() => closed.length > 0, { timeoutMs: 5000, what: 'the socket to close' });
    expect(closed[0]).toMatchObject({ code: 4403, reason: 'user deactivated' });
    expect(closed[0]!.at - started).toBeLessThan(1000 + 500); // within a second of the answer (+ slack for this loaded machine)

    const after = await server.gql('query($id: ID!) { conversation(id: $id) { assignee { id } } }', { id: conversationId }, inbox.tenant.token);
    expect(after.data!.conversation.assignee).toBeNull();
    await waitFor(() => adminFeed.events.some((e: any) => e.id === conversationId && e.assignee === null), { what: 'conversationUpdated' });

    const login = await server.gql(LOG_IN, { input: { email: agent.email, password: agent.password, tenantSlug: inbox.tenant.tenantSlug } });
    expect(errorCode(login)).toBe('UNAUTHENTICATED');
    // Reactivated: a fresh log-in works again (old tokens stay refused only while inactive).
    await server.gql(UPDATE, { id: agent.id, input: { active: true } }, inbox.tenant.token);
    expect((await server.gql(LOG_IN, { input: { email: agent.email, password: agent.password, tenantSlug: inbox.tenant.tenantSlug } })).errors).toBeUndefined();
  });

  it('a demotion takes effect at once: the role is read from the row, not the token', async () => {
    const t = await signUpTenant(server);
    const second = await createAgent(server, t.token, 'ADMIN');
    expect((await server.gql(USERS, {}, second.token)).errors).toBeUndefined();
    expect((await server.gql(UPDATE, { id: second.id, input: { role: 'AGENT' } }, t.token)).errors).toBeUndefined();
    expect(errorCode(await server.gql(UPDATE, { id: t.userId, input: { name: 'Mutiny' } }, second.token))).toBe('FORBIDDEN');
    expect((await server.gql(ME, {}, second.token)).data!.me.role).toBe('AGENT');
  });

  it('the last active ADMIN can be neither demoted nor deactivated (BAD_USER_INPUT), even by two admins at once', async () => {
    const t = await signUpTenant(server);
    for (const input of [{ role: 'AGENT' }, { active: false }]) {
      expect(errorCode(await server.gql(UPDATE, { id: t.userId, input }, t.token))).toBe('BAD_USER_INPUT');
    }
    const other = await createAgent(server, t.token, 'ADMIN');
    const results = await Promise.all([
      server.gql(UPDATE, { id: other.id, input: { active: false } }, t.token),
      server.gql(UPDATE, { id: t.userId, input: { active: false } }, other.token),
    ]);
    const codes = results.map((r) => errorCode(r) ?? 'OK');
    expect(codes.filter((c) => c === 'OK')).toHaveLength(1);
    const admins = await server.app.deps.db.query.users.findMany({ where: (u, { and, eq }) => and(eq(u.tenantId, t.tenantId), eq(u.role, Role.ADMIN), eq(u.active, true)) });
    expect(admins).toHaveLength(1);
  });

  it('another tenant’s user id is NOT_FOUND', async () => {
    const a = await signUpTenant(server);
    const b = await signUpTenant(server);
    expect(errorCode(await server.gql(UPDATE, { id: a.userId, input: { active: false } }, b.token))).toBe('NOT_FOUND');
    expect(errorCode(await server.gql('mutation($id: ID!) { resetUserPassword(id: $id, newPassword: "a new long pw") }', { id: a.userId }, b.token))).toBe('NOT_FOUND');
    expect((await server.gql(ME, {}, a.token)).data!.me.active).toBe(true);
  });
});

describe('sessions: logOut, changePassword, resetUserPassword', () => {
  it('logOut ends that session only; its socket closes with "session revoked"', async () => {
    const t = await signUpTenant(server);
    const second = (await server.gql(LOG_IN, { input: { email: t.email, password: t.password } })).data!.logIn.token as string;
    const { closed } = await openSocket(server, t.token);
    const res = await server.gql('mutation { logOut }', {}, t.token);
    expect(res.data).toEqual({ logOut: true });
    expect(errorCode(await server.gql(ME, {}, t.token))).toBe('UNAUTHENTICATED');
    expect((await server.gql(ME, {}, second)).errors).toBeUndefined();
    await waitFor(() => closed.length > 0, { what: 'the socket to close' });
    expect(closed[0]).toMatchObject({ code: 4403, reason: 'session revoked' });
  });

  it('changePassword: wrong current → UNAUTHENTICATED, weak new → BAD_USER_INPUT; success revokes every other token and returns a fresh one', async () => {
    const t = await signUpTenant(server);
    const other = (await server.gql(LOG_IN, { input: { email: t.email, password: t.password } })).data!.logIn.token as string;
    const { closed } = await openSocket(server, other);
    const CHANGE = 'mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { token user { id } } }';
    expect(errorCode(await server.gql(CHANGE, { c: 'not my password', n: 'brand new password' }, t.token))).toBe('UNAUTHENTICATED');
    expect(errorCode(await server.gql(CHANGE, { c: t.password, n: 'short' }, t.token))).toBe('BAD_USER_INPUT');
    const ok = await server.gql(CHANGE, { c: t.password, n: 'brand new password' }, t.token);
    expect(ok.errors).toBeUndefined();
    const fresh = ok.data!.changePassword.token as string;
    expect(errorCode(await server.gql(ME, {}, t.token))).toBe('UNAUTHENTICATED');
    expect(errorCode(await server.gql(ME, {}, other))).toBe('UNAUTHENTICATED');
    expect((await server.gql(ME, {}, fresh)).data!.me.id).toBe(t.userId);
    await waitFor(() => closed.length > 0, { what: 'the other socket to close' });
    expect(closed[0]).toMatchObject({ code: 4403, reason: 'session revoked' });
    expect(errorCode(await server.gql(LOG_IN, { input: { email: t.email, password: t.password } }))).toBe('UNAUTHENTICATED');
    expect((await server.gql(LOG_IN, { input: { email: t.email, password: 'brand new password' } })).errors).toBeUndefined();
  });

  it('resetUserPassword (ADMIN): the user’s tokens stop working, the new password logs in; AGENT → FORBIDDEN', async () => {
    const t = await signUpTenant(server);
    const agent = await createAgent(server, t.token);
    const RESET = 'mutation($id: ID!, $pw: String!) { resetUserPassword(id: $id, newPassword: $pw) }';
    expect(errorCode(await server.gql(RESET, { id: t.userId, pw: 'hijack password' }, agent.token))).toBe('FORBIDDEN');
    expect(errorCode(await server.gql(RESET, { id: agent.id, pw: 'tiny' }, t.token))).toBe('BAD_USER_INPUT');
    expect((await server.gql(RESET, { id: agent.id, pw: 'reset by admin 1' }, t.token)).data).toEqual({ resetUserPassword: true });
    expect(errorCode(await server.gql(ME, {}, agent.token))).toBe('UNAUTHENTICATED');
    const login = await server.gql(LOG_IN, { input: { email: agent.email, password: 'reset by admin 1', tenantSlug: t.tenantSlug } });
    expect(login.errors).toBeUndefined();
  });
});

describe('token expiry', () => {
  let short: TestServer;
  beforeAll(async () => {
    short = await startTestServer({ JWT_EXPIRES_IN_SECONDS: '5' });
  });
  afterAll(async () => short?.close());

  it('a subscription does not outlive its token: closed with 4403 "token expired"', async () => {
    const t = await signUpTenant(short);
    const { closed } = await openSocket(short, t.token);
    await waitFor(() => closed.length > 0, { timeoutMs: 10_000, what: 'the socket to close at expiry' });
    expect(closed[0]).toMatchObject({ code: 4403, reason: 'token expired' });
    expect(errorCode(await short.gql(ME, {}, t.token))).toBe('UNAUTHENTICATED');
  });
});

describe.skipIf(!usingPostgres)('two instances on one Postgres', () => {
  it('a deactivation on one instance is refused at once on the other, and closes its sockets', async () => {
    const other = await startTestServer({}, server.database);
    try {
      const t = await signUpTenant(server);
      const agent = await createAgent(server, t.token);
      // Warm the other instance's cache with the agent's session.
      expect((await other.gql(ME, {}, agent.token)).errors).toBeUndefined();
      const { closed } = await openSocket(other, agent.token);
      expect((await server.gql(UPDATE, { id: agent.id, input: { active: false } }, t.token)).errors).toBeUndefined();
      await waitFor(() => closed.length > 0, { what: 'the other instance to close the socket' });
      expect(closed[0]).toMatchObject({ code: 4403, reason: 'user deactivated' });
      expect(errorCode(await other.gql(ME, {}, agent.token))).toBe('UNAUTHENTICATED');
    } finally {
      await other.close({ dropDatabase: false });
    }
  });
});
