import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildServer } from '../helpers/child-server.js';
import { inboundSmsParams, type FakeTwilio } from '../helpers/fake-twilio.js';
import { randomUsNumber } from '../helpers/inbox.js';
import { collect } from '../helpers/live.js';
import { usingPostgres } from '../helpers/test-db.js';
import { startTwoProcesses, type TwoProcesses } from '../helpers/two-processes.js';
import { ACCOUNT_FIELDS } from '../helpers/twilio-setup.js';
import { sleep, waitFor } from '../helpers/wait.js';

/**
 * Two server processes on one real Postgres database: live events cross instances through
 * LISTEN/NOTIFY, the two dispatchers share the outbox without sending anything twice, and a
 * crashed instance's claimed jobs are sent by the other once their lease expires.
 */
describe.skipIf(!usingPostgres)('several server processes on one Postgres (TEST_DATABASE_URL)', () => {
  const LEASE_SECONDS = 2;
  let set: TwoProcesses;
  let fake: FakeTwilio;
  let sql: postgres.Sql;
  let one: ChildServer;
  let two: ChildServer;
  let token: string;
  let account: { id: string; accountSid: string; authToken: string; inboundWebhookUrl: string };
  let number: { id: string; e164: string };

  beforeAll(async () => {
    set = await startTwoProcesses({ env: { DISPATCHER_LEASE_SECONDS: String(LEASE_SECONDS) }, tenantName: 'Multi Co' });
    ({ fake, sql, one, two, token, account } = set);
    number = await set.addNumber();
  }, 60_000);

  afterAll(async () => {
    await set?.stop();
  });

  async function inbound(server: ChildServer, from: string, body: string): Promise<void> {
    const params = inboundSmsParams({ accountSid: account.accountSid, from, to: number.e164, body });
    const res = await server.postSigned(account.inboundWebhookUrl, account.authToken, params);
    expect(res.status).toBe(200);
  }

  async function conversationOf(customer: string): Promise<string> {
    const [row] = await sql<{ id: string }[]>`
      select c.id from conversations c join contacts ct on ct.id = c.contact_id
      where ct.phone_number = ${customer} and c.status <> 'RESOLVED'`;
    return row!.id;
  }

  async function queueReplies(conversationId: string, bodies: string[], via: ChildServer[]): Promise<void> {
    // A few at a time per process, alternating, as agents on different instances would.
    for (let i = 0; i < bodies.length; i += 20) {
      const chunk = bodies.slice(i, i + 20);
      const results = await Promise.all(
        chunk.map((body, j) =>
          via[(i + j) % via.length]!.gql(`mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`, {
            input: { conversationId, body },
          }, token),
        ),
      );
      for (const r of results) if (r.errors) throw new Error(JSON.stringify(r.errors));
    }
  }

  const statusCount = async (prefix: string, status: string) =>
    (await sql<{ n: number }[]>`select count(*)::int as n from messages where body like ${prefix + '%'} and status = ${status}`)[0]!.n;

  it('a webhook posted to process 1 reaches a subscriber on process 2 (and not another tenant\'s)', async () => {
    const other = await two.gql(
      `mutation($input: SignUpInput!) { signUp(input: $input) { token } }`,
      { input: { tenantName: 'Elsewhere', name: 'Eve', email: `eve-${Date.now()}@example.com`, password: 'correct horse battery' } },
    );
    const client = two.ws(token);
    const connected = new Promise<void>((res) => client.on('connected', () => res()));
    const onTwo = collect(client, `subscription { messageAdded { id body direction conversationId } }`);
    const otherClient = two.ws(other.data!.signUp.token);
    const otherConnected = new Promise<void>((res) => otherClient.on('connected', () => res()));
    const otherTenant = collect(otherClient, `subscription { messageAdded { id } }`);
    await Promise.all([connected, otherConnected]);
    await sleep(300); // graphql-ws does not acknowledge subscriptions

    const customer = randomUsNumber('650');
    await inbound(one, customer, 'Hello from the other side');
    const [event] = await onTwo.waitForCount(1, 10_000);
    expect(event).toMatchObject({ body: 'Hello from the other side', direction: 'INBOUND', conversationId: await conversationOf(customer) });
    // A marker: a message to the other tenant's own number, after the first tenant's. Its
    // subscription receives the marker and, before it, nothing of the first tenant.
    const otherToken = other.data!.signUp.token as string;
    const otherCreds = fake.addAccount();
    const otherAccount = await one.gql(
      `mutation($input: ConnectTwilioAccountInput!) { connectTwilioAccount(input: $input) { ${ACCOUNT_FIELDS} } }`,
      { input: { accountSid: otherCreds.sid, authToken: otherCreds.authToken, apiBaseUrl: fake.url } },
      otherToken,
    );
    if (otherAccount.errors) throw new Error(JSON.stringify(otherAccount.errors));
    // addPhoneNumber checks that the account owns the number (number squatting): the fake's account holds it.
    const otherE164 = randomUsNumber();
    fake.addIncomingNumber(otherCreds.sid, { phoneNumber: otherE164 });
    const otherNumber = await one.gql(
      `mutation($input: AddPhoneNumberInput!) { addPhoneNumber(input: $input) { id e164 } }`,
      { input: { twilioAccountId: otherAccount.data!.connectTwilioAccount.id, phoneNumber: otherE164 } },
      otherToken,
    );
    if (otherNumber.errors) throw new Error(JSON.stringify(otherNumber.errors));
    const marker = await one.postSigned(
      otherAccount.data!.connectTwilioAccount.inboundWebhookUrl,
      otherCreds.authToken,
      inboundSmsParams({ accountSid: otherCreds.sid, from: randomUsNumber('650'), to: otherNumber.data!.addPhoneNumber.e164, body: 'marker' }),
    );
    expect(marker.status).toBe(200);
    const [markerRow] = await sql<{ id: string }[]>`select id from messages where body = 'marker' and twilio_account_id = ${otherAccount.data!.connectTwilioAccount.id}`;
    // Its subscription was accepted and ran (no error), yet saw nothing of the first tenant.
    expect((await otherTenant.waitForCount(1, 10_000)).map((e) => e.id)).toEqual([markerRow!.id]);
    expect(otherTenant.errors).toEqual([]);
  }, 90_000);

  it('sends 200 replies queued on both processes exactly once in total', async () => {
    fake.reset();
    fake.setLatency(5);
    const customer = randomUsNumber('650');
    await inbound(two, customer, 'I need 200 answers');
    const conversationId = await conversationOf(customer);
    const bodies = Array.from({ length: 200 }, (_, i) => `reply-${i}`);
    await queueReplies(conversationId, bodies, [one, two]);

    await waitFor(async () => (await statusCount('reply-', 'SENT')) === 200, { timeoutMs: 20_000, what: '200 SENT replies' });
    const posts = fake.messageRequests.filter((r) => String(r.params['Body']).startsWith('reply-'));
    expect(posts).toHaveLength(200);
    expect(new Set(posts.map((p) => p.params['Body'])).size).toBe(200);
    expect(posts.every((p) => p.status === 201)).toBe(true);
    // No job left (claimed jobs stay until sent or given up): nothing can be sent a second time.
    expect((await sql`select id from outbox`).length).toBe(0);
  }, 90_000);

  it('loses nothing when a process dies holding claimed jobs: they are sent after the lease expires', async () => {
    fake.reset();
    // Slow Twilio: the process dies with sends in flight (the fake drops them unanswered).
    fake.setLatency(1500);
    const customer = randomUsNumber('650');
    await inbound(one, customer, 'crash test');
    const conversationId = await conversationOf(customer);
    const bodies = Array.from({ length: 12 }, (_, i) => `crash-${i}`);
    // Queued through process 2, whose dispatcher is woken by each commit and claims first.
    await queueReplies(conversationId, bodies, [two]);

    const messagesCall = (r: { method: string; path: string }) => r.method === 'POST' && r.path.endsWith('/Messages.json');
    // Process 2 (woken by each commit) has claimed jobs and has sends in flight, answered after
    // 1.5 s: never, for it. Process 1 may have claimed some too (it polls): it keeps them.
    const held = await waitFor(
      async () => {
        if (!fake.requests.some((r) => messagesCall(r) && r.status === 0)) return undefined;
        const rows = await sql<{ body: string; until: number }[]>`
          select m.body, (extract(epoch from o.locked_until) * 1000)::float8 as until
          from outbox o join messages m on m.id = o.message_id
          where o.locked_by like ${`%:${two.pid}:%`} and o.locked_until > now()`;
        return rows.length > 0 ? rows : undefined;
      },
      { what: 'process 2 to hold jobs with sends in flight' },
    );
    await two.kill();
    fake.setLatency(0);

    await waitFor(async () => (await statusCount('crash-', 'SENT')) === 12, { timeoutMs: 20_000, what: '12 SENT after the crash' });
    const posts = fake.messageRequests.filter((r) => String(r.params['Body']).startsWith('crash-'));
    // Each message created at Twilio exactly once (the fake drops the dead process's pending calls).
    expect(posts.map((p) => p.status)).toEqual(posts.map(() => 201));
    expect(posts).toHaveLength(12);
    expect(new Set(posts.map((p) => p.params['Body'])).size).toBe(12);
    // The jobs process 2 held went out only once their lease had run out.
    for (const job of held) {
      const post = posts.find((p) => p.params['Body'] === job.body)!;
      expect(post.at, job.body).toBeGreaterThanOrEqual(job.until - 50);
    }
    expect((await sql`select id from outbox`).length).toBe(0);
  }, 90_000);
});
