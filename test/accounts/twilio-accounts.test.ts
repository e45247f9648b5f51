import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { twilioAccounts } from '../../src/db/schema.js';
import { createAgent, signUpTenant, type SignedUpTenant } from '../helpers/factories.js';
import { fakeSid, startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { errorCode, startTestServer, type TestServer } from '../helpers/test-server.js';
import { ACCOUNT_FIELDS, connectAccount } from '../helpers/twilio-setup.js';
import { EMPTY_TWIML, messagesOf, randomUsNumber } from '../inbound/fixtures.js';
import { addNumber, sendInbound } from '../helpers/twilio-setup.js';

let server: TestServer;
let fake: FakeTwilio;

beforeAll(async () => {
  [server, fake] = await Promise.all([startTestServer(), startFakeTwilio()]);
});
afterAll(async () => {
  await Promise.all([server?.close(), fake?.close()]);
});

const CONNECT = `mutation($input: ConnectTwilioAccountInput!) { connectTwilioAccount(input: $input) { ${ACCOUNT_FIELDS} } }`;
const LIST = `{ twilioAccounts { ${ACCOUNT_FIELDS} phoneNumbers { id e164 } } }`;

function connect(token: string, input: Record<string, unknown>) {
  return server.gql(CONNECT, { input }, token);
}

async function storedAccounts(tenantId: string) {
  return server.app.deps.db.select().from(twilioAccounts).where(eq(twilioAccounts.tenantId, tenantId));
}

async function expectNothingStored(tenant: SignedUpTenant) {
  const list = await server.gql(LIST, {}, tenant.token);
  expect(list.errors).toBeUndefined();
  expect(list.data!.twilioAccounts).toEqual([]);
  expect(await storedAccounts(tenant.tenantId)).toHaveLength(0);
}

describe('connectTwilioAccount', () => {
  it('connects with a good token: both webhook URLs on PUBLIC_URL with one unguessable key', async () => {
    const tenant = await signUpTenant(server);
    const creds = fake.addAccount({ friendlyName: 'Acme production' });
    const res = await connect(tenant.token, { accountSid: creds.sid, authToken: creds.authToken, apiBaseUrl: fake.url });
    expect(res.errors).toBeUndefined();
    const account = res.data!.connectTwilioAccount;
    const publicUrl = server.app.deps.config.publicUrl;
    const m = new RegExp(`^${publicUrl}/webhooks/twilio/([A-Za-z0-9_-]{32,})/sms$`).exec(account.inboundWebhookUrl);
    expect(m).not.toBeNull();
    expect(account.statusCallbackUrl).toBe(`${publicUrl}/webhooks/twilio/${m![1]}/status`);
    expect(account).toMatchObject({
      accountSid: creds.sid,
      friendlyName: 'Acme production',
      apiBaseUrl: fake.url,
      mediaEnabled: true,
      acceptedMediaTypes: [],
    });
    // The pair was checked against the (fake) Twilio API with Basic auth.
    expect(fake.requests.some((r) => r.path === `/2010-04-01/Accounts/${creds.sid}.json` && r.authorization && r.status === 200)).toBe(true);

    const list = await server.gql(LIST, {}, tenant.token);
    expect(list.data!.twilioAccounts).toEqual([{ ...account, phoneNumbers: [] }]);
  });

  it('never exposes the token: no such field, and the database holds only ciphertext', async () => {
    const tenant = await signUpTenant(server);
    const creds = fake.addAccount();
    await connectAccount(server, tenant.token, fake.url, creds);

    const probe = await server.gql('{ twilioAccounts { authToken } }', {}, tenant.token);
    expect(probe.errors?.[0]?.message).toMatch(/Cannot query field "authToken"/);

    const [row] = await storedAccounts(tenant.tenantId);
    expect(row).toBeDefined();
    expect(row!.authTokenSealed).not.toContain(creds.authToken);
    // The whole row as Postgres renders it, every column included.
    const result = await server.app.deps.db.execute(sql`select t::text as text from twilio_accounts t where t.tenant_id = ${tenant.tenantId}::uuid`);
    const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Array<{ text: string }>;
    expect(rows).toHaveLength(1);
    expect(rows[0]!.text).toContain(creds.sid);
    expect(rows[0]!.text).not.toContain(creds.authToken);
  });

  it('bad token → TWILIO_AUTH_FAILED and nothing stored', async () => {
    const tenant = await signUpTenant(server);
    const creds = fake.addAccount();
    const res = await connect(tenant.token, { accountSid: creds.sid, authToken: 'f'.repeat(32), apiBaseUrl: fake.url });
    expect(errorCode(res)).toBe('TWILIO_AUTH_FAILED');
    expect(res.data).toBeNull();
    await expectNothingStored(tenant);
  });

  it('unknown SID at Twilio → TWILIO_AUTH_FAILED', async () => {
    const tenant = await signUpTenant(server);
    const res = await connect(tenant.token, { accountSid: fakeSid('AC'), authToken: 'a'.repeat(32), apiBaseUrl: fake.url });
    expect(errorCode(res)).toBe('TWILIO_AUTH_FAILED');
    await expectNothingStored(tenant);
  });

  it('a suspended account → BAD_USER_INPUT saying so, nothing stored', async () => {
    const tenant = await signUpTenant(server);
    const creds = fake.addAccount({ status: 'suspended' });
    const res = await connect(tenant.token, { accountSid: creds.sid, authToken: creds.authToken, apiBaseUrl: fake.url });
    expect(errorCode(res)).toBe('BAD_USER_INPUT');
    expect(res.errors![0]!.message).toMatch(/suspended/);
    await expectNothingStored(tenant);
  });

  it('Twilio unreachable or failing → SERVICE_UNAVAILABLE with a clear message, nothing stored', async () => {
    const tenant = await signUpTenant(server);
    const creds = fake.addAccount();
    // A port nothing listens on.
    const closed = await startFakeTwilio();
    const deadUrl = closed.url;
    await closed.close();
    const down = await connect(tenant.token, { accountSid: creds.sid, authToken: creds.authToken, apiBaseUrl: deadUrl });
    expect(errorCode(down)).toBe('SERVICE_UNAVAILABLE');
    expect(down.errors![0]!.message).toMatch(/No Twilio API answered/);

    fake.failNextRequests(1, { status: 503 });
    const failing = await connect(tenant.token, { accountSid: creds.sid, authToken: creds.authToken, apiBaseUrl: fake.url });
    expect(errorCode(failing)).toBe('SERVICE_UNAVAILABLE');
    await expectNothingStored(tenant);
  });

  it('refuses malformed input before calling Twilio', async () => {
    const tenant = await signUpTenant(server);
    const creds = fake.addAccount();
    const before = fake.requests.length;
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ accountSid: 'AC123', authToken: creds.authToken }, 'accountSid'],
      [{ accountSid: `XX${creds.sid.slice(2)}`, authToken: creds.authToken }, 'accountSid'],
      [{ accountSid: creds.sid, authToken: '   ' }, 'authToken'],
      [{ accountSid: creds.sid, authToken: creds.authToken, apiBaseUrl: 'ftp://example.com' }, 'apiBaseUrl'],
      [{ accountSid: creds.sid, authToken: creds.authToken, apiBaseUrl: `${fake.url}/2010-04-01` }, 'apiBaseUrl'],
      [{ accountSid: creds.sid, authToken: creds.authToken, apiBaseUrl: `${fake.url}?x=1` }, 'apiBaseUrl'],
      [{ accountSid: creds.sid, authToken: creds.authToken, apiBaseUrl: 'not a url' }, 'apiBaseUrl'],
      [{ accountSid: creds.sid, authToken: creds.authToken, acceptedMediaTypes: ['image'] }, 'acceptedMediaTypes'],
      [{ accountSid: creds.sid, authToken: creds.authToken, acceptedMediaTypes: ['image/*'] }, 'acceptedMediaTypes'],
    ];
    for (const [input, field] of cases) {
      const res = await connect(tenant.token, { apiBaseUrl: fake.url, ...input });
      expect(errorCode(res), JSON.stringify(input)).toBe('BAD_USER_INPUT');
      expect(res.errors![0]!.extensions!.field).toBe(field);
    }
    expect(fake.requests.length).toBe(before);
    await expectNothingStored(tenant);
  });

  it('is for admins only', async () => {
    const tenant = await signUpTenant(server);
    const agent = await createAgent(server, tenant.token);
    const creds = fake.addAccount();
    const input = { accountSid: creds.sid, authToken: creds.authToken, apiBaseUrl: fake.url };
    expect(errorCode(await connect(agent.token, input))).toBe('FORBIDDEN');
    expect(errorCode(await server.gql(CONNECT, { input }))).toBe('UNAUTHENTICATED');
    expect(await storedAccounts(tenant.tenantId)).toHaveLength(0);
  });

  it('stores media settings; friendlyName given wins over Twilio’s', async () => {
    const tenant = await signUpTenant(server);
    const creds = fake.addAccount();
    const res = await connect(tenant.token, {
      accountSid: creds.sid,
      authToken: creds.authToken,
      apiBaseUrl: `${fake.url}/`,
      friendlyName: '  Support line  ',
      mediaEnabled: false,
      acceptedMediaTypes: ['Image/', 'application/pdf', 'image/'],
    });
    expect(res.errors).toBeUndefined();
    expect(res.data!.connectTwilioAccount).toMatchObject({
      friendlyName: 'Support line',
      apiBaseUrl: fake.url,
      mediaEnabled: false,
      acceptedMediaTypes: ['image/', 'application/pdf'],
    });
  });

  it('re-connecting the same SID updates the token and keeps the URLs; the new token signs webhooks at once', async () => {
    const tenant = await signUpTenant(server);
    const creds = fake.addAccount();
    const first = await connectAccount(server, tenant.token, fake.url, creds, { acceptedMediaTypes: ['image/'], friendlyName: 'Front desk' });
    const number = await addNumber(server, tenant.token, first.id, randomUsNumber());
    const from = randomUsNumber();
    expect((await sendInbound(server, first, { from, to: number.e164, body: 'one' })).status).toBe(200);

    // The tenant rotates its token at Twilio (the fake keeps one token per account).
    const rotated = fake.addAccount({ sid: creds.sid });
    const again = await connect(tenant.token, { accountSid: creds.sid, authToken: rotated.authToken, apiBaseUrl: fake.url });
    expect(again.errors).toBeUndefined();
    const second = again.data!.connectTwilioAccount;
    expect(second.id).toBe(first.id);
    expect(second.inboundWebhookUrl).toBe(first.inboundWebhookUrl);
    expect(second.statusCallbackUrl).toBe(first.statusCallbackUrl);
    // Settings not given are kept (the name too: not replaced by Twilio's).
    expect(second.acceptedMediaTypes).toEqual(['image/']);
    expect(second.friendlyName).toBe('Front desk');
    expect(await storedAccounts(tenant.tenantId)).toHaveLength(1);

    const stale = await sendInbound(server, first, { from, to: number.e164, body: 'old token' });
    expect(stale.status).toBe(403);
    const fresh = await sendInbound(server, { ...first, authToken: rotated.authToken }, { from, to: number.e164, body: 'new token' });
    expect(fresh.status).toBe(200);
    expect(await fresh.text()).toBe(EMPTY_TWIML);
    expect((await messagesOf(server, tenant.tenantId)).map((m) => m.body)).toEqual(['one', 'new token']);
  });

  it('the same SID in another tenant is a separate account with its own URLs', async () => {
    const a = await signUpTenant(server);
    const b = await signUpTenant(server);
    const creds = fake.addAccount();
    const inA = await connectAccount(server, a.token, fake.url, creds);
    const inB = await connectAccount(server, b.token, fake.url, creds);
    expect(inB.id).not.toBe(inA.id);
    expect(inB.inboundWebhookUrl).not.toBe(inA.inboundWebhookUrl);
    const listA = await server.gql(LIST, {}, a.token);
    expect(listA.data!.twilioAccounts.map((x: { id: string }) => x.id)).toEqual([inA.id]);
  });
});
