import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChildServer, sharedEnv, type ChildServer } from '../helpers/child-server.js';
import { fakeSid, inboundSmsParams, startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { randomUsNumber } from '../helpers/inbox.js';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/test-db.js';
import { ACCOUNT_FIELDS } from '../helpers/twilio-setup.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Two server processes on one Postgres: each trigger event yields exactly one automated text,
 * whichever process gets Twilio's webhook (retried 5 times) and whichever dispatcher sends it.
 */
describe.skipIf(!usingPostgres)('automated messages with two server processes on one Postgres', () => {
  let testDb: TestDatabase;
  let fake: FakeTwilio;
  let sql: postgres.Sql;
  let one: ChildServer;
  let two: ChildServer;
  let token: string;
  let account: { id: string; accountSid: string; authToken: string; inboundWebhookUrl: string };
  let number: { id: string; e164: string };

  beforeAll(async () => {
    fake = await startFakeTwilio();
    testDb = await createTestDatabase();
    sql = postgres(testDb.env.DATABASE_URL!, { max: 2, onnotice: () => {} });
    const env = { ...sharedEnv(testDb.env.DATABASE_URL!), AUTOMATION_POLL_MS: '50' };
    [one, two] = await Promise.all([startChildServer(env), startChildServer(env)]);

    const signUp = await one.gql(`mutation($input: SignUpInput!) { signUp(input: $input) { token } }`, {
      input: { tenantName: 'Twin Dental', name: 'Ada', email: `ada-${Date.now()}@example.com`, password: 'correct horse battery' },
    });
    token = signUp.data!.signUp.token;
    const creds = fake.addAccount();
    const connected = await one.gql(
      `mutation($input: ConnectTwilioAccountInput!) { connectTwilioAccount(input: $input) { ${ACCOUNT_FIELDS} } }`,
      { input: { accountSid: creds.sid, authToken: creds.authToken, apiBaseUrl: fake.url } },
      token,
    );
    if (connected.errors) throw new Error(JSON.stringify(connected.errors));
    account = { ...connected.data!.connectTwilioAccount, authToken: creds.authToken };
    // Registering a number proves ownership at (fake) Twilio.
    const e164 = randomUsNumber();
    fake.addIncomingNumber(creds.sid, { phoneNumber: e164 });
    const added = await two.gql(
      `mutation($input: AddPhoneNumberInput!) { addPhoneNumber(input: $input) { id e164 } }`,
      { input: { twilioAccountId: account.id, phoneNumber: e164 } },
      token,
    );
    if (added.errors) throw new Error(JSON.stringify(added.errors));
    number = added.data!.addPhoneNumber;
    for (const [trigger, body] of [
      ['GREETING', 'Welcome to {{tenant.name}}'],
      ['RESOLVED', 'Glad we could help'],
      ['CSAT_SURVEY', 'Rate us 1-5'],
    ]) {
      const set = await two.gql(
        `mutation($input: SetAutomatedMessageInput!) { setAutomatedMessage(input: $input) { id } }`,
        { input: { phoneNumberId: number.id, trigger, body, enabled: true } },
        token,
      );
      if (set.errors) throw new Error(JSON.stringify(set.errors));
    }
  }, 90_000);

  afterAll(async () => {
    await Promise.allSettled([one?.stop(), two?.stop()]);
    await sql?.end();
    await fake?.close();
    await testDb?.drop();
  });

  const sentTo = (to: string) => fake.messageRequests.filter((r) => r.status === 201 && r.params['To'] === to).map((r) => String(r.params['Body']));

  it('GREETING once for a first text retried 5 times across both; RESOLVED and the survey once; the rating lands once', async () => {
    const customer = randomUsNumber();
    const params = inboundSmsParams({ accountSid: account.accountSid, from: customer, to: number.e164, body: 'hi there', messageSid: fakeSid('SM') });
    const answers = await Promise.all([one, two, one, two, one].map((p) => p.postSigned(account.inboundWebhookUrl, account.authToken, params)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    await waitFor(() => sentTo(customer).length >= 1, { timeoutMs: 20_000, what: 'the greeting' });

    const [conversation] = await sql<{ id: string }[]>`
      select c.id from conversations c join contacts ct on ct.id = c.contact_id where ct.phone_number = ${customer}`;
    // Both processes resolve at once: one resolution, one RESOLVED text, one survey.
    const resolved = await Promise.all(
      [one, two].map((p) =>
        p.gql(`mutation($id: ID!) { setConversationStatus(conversationId: $id, status: RESOLVED) { status } }`, { id: conversation!.id }, token),
      ),
    );
    expect(resolved.map((r) => r.data?.setConversationStatus?.status)).toEqual(['RESOLVED', 'RESOLVED']);
    await waitFor(() => sentTo(customer).length >= 3, { timeoutMs: 20_000, what: 'the RESOLVED text and the survey' });

    const rating = inboundSmsParams({ accountSid: account.accountSid, from: customer, to: number.e164, body: '4 stars', messageSid: fakeSid('SM') });
    await Promise.all([two, one, two, one, two].map((p) => p.postSigned(account.inboundWebhookUrl, account.authToken, rating)));
    const rated = await one.gql(`query($id: ID!) { conversation(id: $id) { status csatRating } }`, { id: conversation!.id }, token);
    expect(rated.data!.conversation).toEqual({ status: 'RESOLVED', csatRating: 4 });

    // Every automated message has left the outbox on one process or the other: nothing more will come.
    await waitFor(
      async () => (await sql`select 1 from messages where status in ('QUEUED', 'SENDING')`).length === 0,
      { timeoutMs: 20_000, what: 'the outbox to drain' },
    );
    expect(sentTo(customer)).toEqual(['Welcome to Twin Dental', 'Glad we could help', 'Rate us 1-5']);
    const [{ n }] = (await sql`select count(*)::int as n from messages where body = '4 stars'`) as unknown as [{ n: number }];
    expect(n).toBe(1);
  });
});
