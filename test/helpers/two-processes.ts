import postgres from 'postgres';
import { startChildServer, sharedEnv, type ChildServer } from './child-server.js';
import { startFakeTwilio, type FakeTwilio } from './fake-twilio.js';
import { randomUsNumber } from './inbox.js';
import { createTestDatabase, type TestDatabase } from './test-db.js';
import { ACCOUNT_FIELDS } from './twilio-setup.js';

/**
 * The set-up of a test with two server processes on one Postgres (TEST_DATABASE_URL): a fresh
 * database, the fake Twilio, two child servers with the same settings (a token or a signature
 * made for one works on the other), and a tenant signed up on the first with a Twilio account
 * connected. `stop()` ends everything, in order. Used by every test with two processes on one
 * Postgres (routing, automations, live, outbound batch claims).
 */
export interface TwoProcesses {
  testDb: TestDatabase;
  fake: FakeTwilio;
  /** A direct connection to the test database (checks and crash simulations). */
  sql: postgres.Sql;
  /** The settings both processes run with (start another with `restart` or startChildServer(env)). */
  env: Record<string, string>;
  one: ChildServer;
  two: ChildServer;
  /** The tenant's ADMIN token and slug (agents log in with it). */
  token: string;
  tenantSlug: string;
  account: { id: string; accountSid: string; authToken: string; inboundWebhookUrl: string };
  /** A new number of the account (registered at the fake Twilio first: the server checks), through the second process. */
  addNumber(input?: { teamId?: string }): Promise<{ id: string; e164: string }>;
  /** Stops both processes, runs `meanwhile` (e.g. changes rows with both down), starts two new ones on the same database and settings. */
  restart(meanwhile?: () => Promise<unknown>): Promise<void>;
  stop(): Promise<void>;
}

function must<T>(res: { data?: T | null; errors?: unknown }, what: string): T {
  if (res.errors || !res.data) throw new Error(`${what} failed: ${JSON.stringify(res.errors)}`);
  return res.data;
}

export async function startTwoProcesses(opts: { env?: Record<string, string>; tenantName?: string } = {}): Promise<TwoProcesses> {
  const fake = await startFakeTwilio();
  const testDb = await createTestDatabase();
  const sql = postgres(testDb.env.DATABASE_URL!, { max: 2, onnotice: () => {} });
  const env = { ...sharedEnv(testDb.env.DATABASE_URL!), ...opts.env };
  // Started together: migrations are serialised by an advisory lock.
  let [one, two] = await Promise.all([startChildServer(env, 300_000), startChildServer(env, 300_000)]);

  const signUp = must(
    await one.gql<{ signUp: { token: string; user: { tenant: { slug: string } } } }>(
      `mutation($input: SignUpInput!) { signUp(input: $input) { token user { tenant { slug } } } }`,
      {
        input: {
          tenantName: opts.tenantName ?? 'Two Processes',
          name: 'Ada',
          email: `ada-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`,
          password: 'correct horse battery',
        },
      },
    ),
    'signUp',
  ).signUp;
  const token = signUp.token;
  const creds = fake.addAccount();
  const connected = must(
    await one.gql<{ connectTwilioAccount: { id: string; accountSid: string; inboundWebhookUrl: string } }>(
      `mutation($input: ConnectTwilioAccountInput!) { connectTwilioAccount(input: $input) { ${ACCOUNT_FIELDS} } }`,
      { input: { accountSid: creds.sid, authToken: creds.authToken, apiBaseUrl: fake.url } },
      token,
    ),
    'connectTwilioAccount',
  ).connectTwilioAccount;
  const account = { ...connected, authToken: creds.authToken };

  const set: TwoProcesses = {
    testDb,
    fake,
    sql,
    env,
    one,
    two,
    token,
    tenantSlug: signUp.user.tenant.slug,
    account,
    async addNumber(input = {}) {
      const phoneNumber = randomUsNumber();
      fake.addIncomingNumber(account.accountSid, { phoneNumber });
      return must(
        await set.two.gql<{ addPhoneNumber: { id: string; e164: string } }>(
          `mutation($input: AddPhoneNumberInput!) { addPhoneNumber(input: $input) { id e164 } }`,
          { input: { twilioAccountId: account.id, phoneNumber, ...input } },
          token,
        ),
        'addPhoneNumber',
      ).addPhoneNumber;
    },
    async restart(meanwhile) {
      await Promise.all([set.one.stop(), set.two.stop()]);
      await meanwhile?.();
      [one, two] = await Promise.all([startChildServer(env, 300_000), startChildServer(env, 300_000)]);
      set.one = one;
      set.two = two;
    },
    async stop() {
      await Promise.allSettled([set.one.stop(), set.two.stop()]);
      await sql.end().catch(() => {});
      await fake.close();
      await testDb.drop();
    },
  };
  return set;
}
