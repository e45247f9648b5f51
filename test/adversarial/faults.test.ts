import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeSid, inboundSmsParams, startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { customerTexts, randomUsNumber, setUpInbox, type Inbox } from '../helpers/inbox.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/test-db.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { postSignedForm } from '../helpers/twilio-setup.js';
import { sleep, waitFor } from '../helpers/wait.js';

/**
 * Faults injected through TCP proxies we own (the machine's Postgres is shared: never stopped).
 * FAULT_OUTAGE_MS sets the outage (short in `npm test`; `npm run test:adversarial` uses 10 s).
 */
const OUTAGE_MS = Number(process.env.FAULT_OUTAGE_MS ?? 3000);

describe.skipIf(!usingPostgres)('Postgres unreachable while webhooks flow (TEST_DATABASE_URL)', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let server: TestServer;
  let fake: FakeTwilio;
  let inbox: Inbox;
  let direct: postgres.Sql;

  beforeAll(async () => {
    database = await createTestDatabase();
    const real = new URL(database.env.DATABASE_URL!);
    proxy = await startTcpProxy(real.hostname, Number(real.port || 5432));
    const viaProxy = new URL(real);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    fake = await startFakeTwilio();
    server = await startTestServer({ DATABASE_URL: viaProxy.toString() }, { ...database, env: { DATABASE_URL: viaProxy.toString() } });
    inbox = await setUpInbox(server, fake);
    direct = postgres(database.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
  }, 120_000);
  afterAll(async () => {
    await server?.close({ dropDatabase: false });
    await proxy?.close();
    await direct?.end();
    await fake?.close();
    await database?.drop();
  });

  it(`503 during a ${OUTAGE_MS} ms outage, every 200 stored exactly once, recovery without restart, /readyz follows`, async () => {
    const answers: Array<{ sid: string; status: number; phase: 'before' | 'during' | 'after' }> = [];
    let phase: 'before' | 'during' | 'after' = 'before';
    let flowing = true;
    const flow = (async () => {
      while (flowing) {
        const sid = fakeSid('SM');
        const params = inboundSmsParams({ accountSid: inbox.account.accountSid, from: randomUsNumber(), to: inbox.number.e164, body: 'during a fault', messageSid: sid });
        const at = phase;
        const status = await postSignedForm(server, inbox.account.inboundWebhookUrl, inbox.account.authToken, params).then(
          async (r) => (await r.text(), r.status),
          () => 0,
        );
        answers.push({ sid, status, phase: at });
        await sleep(25);
      }
    })();
    await waitFor(() => answers.filter((a) => a.status === 200).length >= 10, { what: 'traffic before the fault' });

    proxy.cut();
    phase = 'during';
    await waitFor(async () => (await fetch(`${server.url}/readyz`)).status === 503, { timeoutMs: 10_000, what: '/readyz to fail' });
    await sleep(OUTAGE_MS);
    expect(answers.filter((a) => a.phase === 'during').some((a) => a.status === 503)).toBe(true);
    proxy.restore();
    phase = 'after';
    await waitFor(async () => (await fetch(`${server.url}/readyz`)).status === 200, { timeoutMs: 30_000, what: '/readyz to recover' });
    await waitFor(() => answers.filter((a) => a.phase === 'after' && a.status === 200).length >= 10, { timeoutMs: 30_000, what: 'webhooks to be stored again' });
    flowing = false;
    await flow;

    expect(answers.every((a) => a.status === 200 || a.status === 503)).toBe(true);
    const ok = answers.filter((a) => a.status === 200).map((a) => a.sid);
    const rows = await direct<{ twilio_sid: string; n: number }[]>`select twilio_sid, count(*)::int as n from messages where twilio_sid = any(${ok}) group by twilio_sid`;
    expect(rows.length).toBe(ok.length); // none lost
    expect(rows.every((r) => r.n === 1)).toBe(true); // none twice
    console.info(JSON.stringify({ fault: 'postgres unreachable', outageMs: OUTAGE_MS, requests: answers.length, answered200: ok.length, answered503: answers.filter((a) => a.status === 503).length, lost: ok.length - rows.length, duplicated: rows.filter((r) => r.n > 1).length }));
  });
});

describe('the Twilio API unreachable while replies are queued', () => {
  let proxy: TcpProxy;
  let server: TestServer;
  let fake: FakeTwilio;

  beforeAll(async () => {
    fake = await startFakeTwilio();
    proxy = await startTcpProxy('127.0.0.1', Number(new URL(fake.url).port));
    server = await startTestServer({ DISPATCHER_MAX_ATTEMPTS: '100', DISPATCHER_BACKOFF_MAX_MS: '400' });
  });
  afterAll(async () => {
    await server?.close();
    await proxy?.close();
    await fake?.close();
  });

  it(`every reply queued during a ${OUTAGE_MS} ms outage is sent once it is back, none twice`, async () => {
    const creds = fake.addAccount();
    const { signUpTenant } = await import('../helpers/factories.js');
    const { connectAccount, addNumber } = await import('../helpers/twilio-setup.js');
    const tenant = await signUpTenant(server);
    const account = await connectAccount(server, tenant.token, `http://127.0.0.1:${proxy.port}`, creds);
    fake.addIncomingNumber(creds.sid, { phoneNumber: '+14155550177' });
    const number = await addNumber(server, tenant.token, account.id, '+14155550177');
    const inbox: Inbox = { tenant, account, number };
    const conversationId = await customerTexts(server, inbox, randomUsNumber(), 'hello');

    proxy.cut();
    const bodies = Array.from({ length: 10 }, (_, i) => `queued reply ${i}`);
    for (const body of bodies) {
      const res = await server.gql('mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }', { input: { conversationId, body } }, tenant.token);
      expect(res.errors).toBeUndefined();
    }
    await sleep(OUTAGE_MS);
    expect(fake.messageRequests.filter((r) => String(r.params['Body']).startsWith('queued reply'))).toHaveLength(0);
    proxy.restore();
    await waitFor(() => bodies.every((b) => fake.messageRequests.some((r) => r.params['Body'] === b && r.status === 201)), { timeoutMs: 30_000, what: 'every queued reply to be sent' });
    await sleep(500);
    for (const body of bodies) expect(fake.messageRequests.filter((r) => r.params['Body'] === body && r.status === 201)).toHaveLength(1);
    console.info(JSON.stringify({ fault: 'twilio unreachable', outageMs: OUTAGE_MS, queued: bodies.length, sent: bodies.length, duplicated: 0 }));
  });
});
