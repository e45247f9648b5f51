import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChildServer, sharedEnv, type ChildServer } from '../helpers/child-server.js';
import { inboundSmsParams, startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { randomUsNumber } from '../helpers/inbox.js';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/test-db.js';
import { ACCOUNT_FIELDS } from '../helpers/twilio-setup.js';
import { waitFor } from '../helpers/wait.js';
import { createTeam, listConversations, must, setAvailability, tally } from './routing-setup.js';

/**
 * Two server processes on one Postgres: conversations opened at once through both are routed by
 * both, and capacity and single assignment still hold (the locks are in the database). Then a
 * process started on conversations left waiting routes them at start.
 */
describe.skipIf(!usingPostgres)('routing with two server processes on one Postgres (TEST_DATABASE_URL)', () => {
  let testDb: TestDatabase;
  let fake: FakeTwilio;
  let one: ChildServer;
  let two: ChildServer;
  let env: Record<string, string>;
  let admin: string;
  let account: { id: string; accountSid: string; authToken: string; inboundWebhookUrl: string };

  beforeAll(async () => {
    fake = await startFakeTwilio();
    testDb = await createTestDatabase();
    // No periodic sweep: the processes' own triggers do the work.
    env = { ...sharedEnv(testDb.env.DATABASE_URL!), DISPATCHER_ENABLED: 'false', ROUTING_SWEEP_INTERVAL_MS: '3600000' };
    [one, two] = await Promise.all([startChildServer(env), startChildServer(env)]);
    const signUp = await one.gql(`mutation($input: SignUpInput!) { signUp(input: $input) { token } }`, {
      input: { tenantName: 'Two Instances', name: 'Ada', email: `ada-${Date.now()}@example.com`, password: 'correct horse battery' },
    });
    admin = must(signUp, 'signUp').signUp.token;
    const creds = fake.addAccount();
    const connected = await one.gql(
      `mutation($input: ConnectTwilioAccountInput!) { connectTwilioAccount(input: $input) { ${ACCOUNT_FIELDS} } }`,
      { input: { accountSid: creds.sid, authToken: creds.authToken, apiBaseUrl: fake.url } },
      admin,
    );
    account = { ...must(connected, 'connect').connectTwilioAccount, authToken: creds.authToken };
  }, 90_000);

  afterAll(async () => {
    await Promise.allSettled([one?.stop(), two?.stop()]);
    await fake?.close();
    await testDb?.drop();
  });

  async function teamOfThree(capacity: number) {
    const members: Array<{ id: string; token: string }> = [];
    // Agents log in with their workspace's slug (without it only a signUp row is checked).
    const tenantSlug = must(await one.gql(`{ me { tenant { slug } } }`, {}, admin), 'me').me.tenant.slug;
    for (let i = 0; i < 3; i++) {
      const email = `agent-${i}-${Math.random().toString(36).slice(2)}@example.com`;
      const created = await one.gql(`mutation($input: CreateAgentInput!) { createAgent(input: $input) { id } }`, {
        input: { email, name: `Agent ${i}`, password: 'agent password 1', role: 'AGENT' },
      }, admin);
      const login = await two.gql(`mutation($input: LogInInput!) { logIn(input: $input) { token } }`, { input: { email, password: 'agent password 1', tenantSlug } });
      members.push({ id: must(created, 'createAgent').createAgent.id, token: must(login, 'logIn').logIn.token });
    }
    const team = await createTeam(one, admin, { strategy: 'ROUND_ROBIN', agentCapacity: capacity, memberIds: members.map((m) => m.id) });
    for (const [i, m] of members.entries()) await setAvailability(i % 2 ? one : two, m.token, 'ONLINE');
    // Registering a number proves it belongs to the Twilio account: it must exist there first.
    const phoneNumber = randomUsNumber();
    fake.addIncomingNumber(account.accountSid, { phoneNumber });
    const added = await two.gql(`mutation($input: AddPhoneNumberInput!) { addPhoneNumber(input: $input) { id e164 } }`, {
      input: { twilioAccountId: account.id, phoneNumber, teamId: team.id },
    }, admin);
    return { members, team, number: must(added, 'addPhoneNumber').addPhoneNumber as { id: string; e164: string } };
  }

  /** `n` customers text at once, alternately through each process. */
  async function openAtOnce(to: string, n: number): Promise<void> {
    const responses = await Promise.all(
      Array.from({ length: n }, (_, i) => {
        const params = inboundSmsParams({ accountSid: account.accountSid, from: randomUsNumber('650'), to, body: `hello ${i}` });
        return (i % 2 ? one : two).postSigned(account.inboundWebhookUrl, account.authToken, params);
      }),
    );
    for (const r of responses) expect(r.status).toBe(200);
  }

  it('50 opened at once through both processes on capacity 20 end 17/17/16, none lost or assigned twice', async () => {
    const { members, team, number } = await teamOfThree(20);
    await openAtOnce(number.e164, 50);
    const list = await waitFor(
      async () => {
        const l = await listConversations(one, admin, { teamId: team.id });
        return l.length === 50 && l.every((c) => c.assignee) ? l : undefined;
      },
      { timeoutMs: 60_000, what: '50 assigned conversations' },
    );
    const { perAgent, unassigned } = tally(list, members.map((m) => m.id));
    expect(unassigned).toBe(0);
    expect([...perAgent].sort()).toEqual([16, 17, 17]);
  }, 120_000);

  it('40 opened at once through both processes on capacity 10 leave exactly 10 each and 10 waiting', async () => {
    const { members, team, number } = await teamOfThree(10);
    await openAtOnce(number.e164, 40);
    const list = await waitFor(
      async () => {
        const l = await listConversations(two, admin, { teamId: team.id });
        return l.length === 40 && l.filter((c) => c.assignee).length >= 30 ? l : undefined;
      },
      { timeoutMs: 60_000, what: '30 assigned conversations' },
    );
    expect(tally(list, members.map((m) => m.id))).toEqual({ perAgent: [10, 10, 10], unassigned: 10 });

    // Nothing waiting is routed by a process that starts later, since no one has capacity; once
    // capacity frees with both processes stopped, a process starting routes it at start.
    await Promise.all([one.stop(), two.stop()]);
    const postgres = (await import('postgres')).default;
    const sql = postgres(testDb.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
    try {
      await sql`update conversations set status = 'RESOLVED' where assignee_id = ${members[0]!.id}::uuid and team_id = ${team.id}::uuid
        and id in (select id from conversations where assignee_id = ${members[0]!.id}::uuid limit 3)`;
    } finally {
      await sql.end();
    }
    one = await startChildServer(env);
    two = await startChildServer(env);
    const after = await waitFor(
      async () => {
        const l = await listConversations(one, admin, { teamId: team.id, status: 'OPEN' });
        return l.filter((c) => c.assignee).length >= 30 ? l : undefined;
      },
      { timeoutMs: 30_000, what: 'the start sweep to fill the freed capacity' },
    );
    expect(tally(after, members.map((m) => m.id))).toEqual({ perAgent: [10, 10, 10], unassigned: 7 });
  }, 180_000);
});
