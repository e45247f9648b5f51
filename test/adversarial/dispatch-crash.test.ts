import net from 'node:net';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChildServer, sharedEnv, type ChildServer } from '../helpers/child-server.js';
import { inboundSmsParams, startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { randomUsNumber } from '../helpers/inbox.js';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/test-db.js';
import { ACCOUNT_FIELDS } from '../helpers/twilio-setup.js';
import { waitFor } from '../helpers/wait.js';

/**
 * `kill -9` of the sending process after Twilio has taken the message but before the process
 * recorded it (the window the outbox closes by looking for the message at Twilio before sending again). Two processes on
 * one Postgres behind a "balancer" (PUBLIC_URL, a TCP forwarder to process B, which serves
 * webhooks and has no dispatcher): A sends, dies while the fake Twilio holds its POST, the fake
 * then accepts the message anyway. A is restarted on the same database.
 */
describe.skipIf(!usingPostgres)('kill -9 during dispatch after Twilio accepted the send', () => {
  const LEASE_SECONDS = 3;
  let testDb: TestDatabase;
  let fake: FakeTwilio;
  let sql: postgres.Sql;
  let balancer: net.Server;
  let balancerTarget = 0;
  let envA: Record<string, string>;
  let a: ChildServer;
  let b: ChildServer;
  let token: string;
  let account: { id: string; accountSid: string; authToken: string; inboundWebhookUrl: string };
  let number: { id: string; e164: string };
  let conversationId: string;
  const report: string[] = [];

  beforeAll(async () => {
    fake = await startFakeTwilio();
    testDb = await createTestDatabase();
    sql = postgres(testDb.env.DATABASE_URL!, { max: 2, onnotice: () => {} });
    // What Twilio calls (status callbacks): forwarded to whichever process balancerTarget names.
    balancer = net.createServer((client) => {
      const upstream = net.connect(balancerTarget, '127.0.0.1');
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve) => balancer.listen(0, '127.0.0.1', resolve));
    const publicUrl = `http://127.0.0.1:${(balancer.address() as net.AddressInfo).port}`;
    const env = { ...sharedEnv(testDb.env.DATABASE_URL!), PUBLIC_URL: publicUrl, DISPATCHER_LEASE_SECONDS: String(LEASE_SECONDS) };
    envA = env;
    [a, b] = await Promise.all([startChildServer(env, 120_000), startChildServer({ ...env, DISPATCHER_ENABLED: 'false' }, 120_000)]);
    balancerTarget = Number(new URL(b.url).port);

    const signUp = await a.gql(`mutation($input: SignUpInput!) { signUp(input: $input) { token } }`, {
      input: { tenantName: 'Crash Co', name: 'Ada', email: `ada-${Date.now()}@example.com`, password: 'correct horse battery' },
    });
    token = signUp.data!.signUp.token;
    const creds = fake.addAccount();
    const connected = await a.gql(
      `mutation($input: ConnectTwilioAccountInput!) { connectTwilioAccount(input: $input) { ${ACCOUNT_FIELDS} } }`,
      { input: { accountSid: creds.sid, authToken: creds.authToken, apiBaseUrl: fake.url } },
      token,
    );
    if (connected.errors) throw new Error(JSON.stringify(connected.errors));
    account = { ...connected.data!.connectTwilioAccount, authToken: creds.authToken };
    const e164 = randomUsNumber();
    fake.addIncomingNumber(creds.sid, { phoneNumber: e164 });
    const added = await a.gql(
      `mutation($input: AddPhoneNumberInput!) { addPhoneNumber(input: $input) { id e164 } }`,
      { input: { twilioAccountId: account.id, phoneNumber: e164 } },
      token,
    );
    if (added.errors) throw new Error(JSON.stringify(added.errors));
    number = added.data!.addPhoneNumber;

    const customer = randomUsNumber('650');
    const res = await a.postSigned(account.inboundWebhookUrl, account.authToken, inboundSmsParams({ accountSid: account.accountSid, from: customer, to: number.e164, body: 'hello' }));
    expect(res.status).toBe(200);
    const [row] = await sql<{ id: string }[]>`select c.id from conversations c join contacts ct on ct.id = c.contact_id where ct.phone_number = ${customer}`;
    conversationId = row!.id;
  }, 240_000);

  afterAll(async () => {
    fake?.onMessage(null);
    await Promise.allSettled([a?.stop(), b?.stop()]);
    await new Promise((resolve) => balancer?.close(resolve));
    await sql?.end();
    await fake?.close();
    await testDb?.drop();
    if (report.length > 0) console.log(report.join('\n'));
  });

  /** Queues `body` through A; the fake holds A's POST, A is killed, the fake then accepts it. */
  async function sendAndCrash(body: string): Promise<void> {
    let received!: () => void;
    const held = new Promise<void>((resolve) => (received = resolve));
    fake.onMessage(({ params }) => {
      if (params['Body'] !== body) return;
      received();
      // Twilio takes its time answering: the process dies meanwhile; the message is accepted after.
      return { delayMs: 1500 };
    });
    const sent = await a.gql(`mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`, { input: { conversationId, body } }, token);
    expect(sent.errors).toBeUndefined();
    await held;
    await a.kill();
    fake.onMessage(null);
    // The fake accepted the send the dead process never heard about.
    await waitFor(() => fake.messages.some((m) => m.direction === 'outbound' && m.body === body), { timeoutMs: 10_000, what: 'the fake to accept the held send' });
    a = await startChildServer(envA, 120_000);
  }

  async function settled(body: string) {
    return waitFor(
      async () => {
        const [row] = await sql<{ status: string; twilio_sid: string | null; jobs: number }[]>`
          select m.status, m.twilio_sid, (select count(*)::int from outbox o where o.message_id = m.id) as jobs
          from messages m where m.body = ${body}`;
        return row && row.jobs === 0 && row.twilio_sid !== null ? row : undefined;
      },
      { timeoutMs: 30_000, what: `${body}: sent and its outbox job done` },
    );
  }

  it('the status callback reaches a live instance: after the restart the message is not posted again', async () => {
    // Twilio reports 'sent' shortly after accepting, to the balancer (process B).
    fake.setDeliveryPlayback({ sentAfterMs: [100, 200], deliveredAfterMs: [100, 200], failureShare: 0 });
    const body = 'crash after accept (callback)';
    await sendAndCrash(body);
    const row = await settled(body);
    const accepted = fake.messages.filter((m) => m.direction === 'outbound' && m.body === body);
    const posts = fake.messageRequests.filter((r) => r.params['Body'] === body);
    report.push(`kill -9 after Twilio accepted, callback delivered: POSTs ${posts.length}, created at Twilio ${accepted.length}`);
    expect(posts).toHaveLength(1);
    expect(accepted).toHaveLength(1);
    expect(row.twilio_sid).toBe(accepted[0]!.sid);
    expect(['SENT', 'DELIVERED']).toContain(row.status);
  }, 240_000);

  it('no status callback before the lease ran out: the restarted process finds the accepted message at Twilio and does not post again', async () => {
    fake.setDeliveryPlayback(null);
    const body = 'crash after accept (reconciled)';
    await sendAndCrash(body);
    const row = await settled(body);
    const accepted = fake.messages.filter((m) => m.direction === 'outbound' && m.body === body);
    const posts = fake.messageRequests.filter((r) => r.params['Body'] === body);
    // The restarted dispatcher asked Twilio's Messages list for the contact's latest messages.
    const lookups = fake.requests.filter((r) => r.method === 'GET' && r.path.includes('/Messages.json?'));
    report.push(`kill -9 after Twilio accepted, no callback: POSTs ${posts.length}, created at Twilio ${accepted.length}, list look-ups ${lookups.length}`);
    expect(posts).toHaveLength(1);
    expect(lookups.length).toBeGreaterThanOrEqual(1);
    expect(accepted).toHaveLength(1);
    expect(row.twilio_sid).toBe(accepted[0]!.sid);
  }, 240_000);
});
