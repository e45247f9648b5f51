import { and, eq, isNull } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { phoneNumbers } from '../../src/db/schema.js';
import { createAgent, signUpTenant, type SignedUpTenant } from '../helpers/factories.js';
import { fakeSid, startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { errorCode, startTestServer, type TestServer } from '../helpers/test-server.js';
import { NUMBER_FIELDS, connectAccount, provisionOnFake, type ConnectedAccount } from '../helpers/twilio-setup.js';
import { randomUsNumber } from '../inbound/fixtures.js';

let server: TestServer;
let fake: FakeTwilio;

beforeAll(async () => {
  [server, fake] = await Promise.all([startTestServer(), startFakeTwilio()]);
});
afterAll(async () => {
  await Promise.all([server?.close(), fake?.close()]);
});

const ADD = `mutation($input: AddPhoneNumberInput!) { addPhoneNumber(input: $input) { ${NUMBER_FIELDS} webhookWarning twilioAccount { id accountSid } } }`;
const REMOVE = 'mutation($id: ID!) { removePhoneNumber(id: $id) }';
const LIST = `{ phoneNumbers { ${NUMBER_FIELDS} twilioAccount { id } } }`;

interface Setup {
  tenant: SignedUpTenant;
  account: ConnectedAccount;
}

async function setup(): Promise<Setup> {
  const tenant = await signUpTenant(server);
  const creds = fake.addAccount();
  return { tenant, account: await connectAccount(server, tenant.token, fake.url, creds) };
}

function add(s: Setup, input: Record<string, unknown>, token = s.tenant.token) {
  // Registering proves ownership: the number is on the tenant's (fake) Twilio account first.
  if (typeof input.phoneNumber === 'string') provisionOnFake(s.account.id, input.phoneNumber, input.type);
  return server.gql(ADD, { input: { twilioAccountId: s.account.id, ...input } }, token);
}

/** Without provisioning: the number must already be on the fake account (or not, on purpose). */
function addRaw(s: Setup, input: Record<string, unknown>, token = s.tenant.token) {
  return server.gql(ADD, { input: { twilioAccountId: s.account.id, ...input } }, token);
}

async function storedNumbers(tenantId: string) {
  return server.app.deps.db.select().from(phoneNumbers).where(eq(phoneNumbers.tenantId, tenantId));
}

/** A random +1 415 number in both a human format and E.164. */
function humanAndE164(): { human: string; e164: string } {
  const e164 = randomUsNumber();
  return { e164, human: `+1 (${e164.slice(2, 5)}) ${e164.slice(5, 8)}-${e164.slice(8)}` };
}

describe('addPhoneNumber', () => {
  it('normalises to E.164 with the defaults, and lists it', async () => {
    const s = await setup();
    const { human, e164 } = humanAndE164();
    const res = await add(s, { phoneNumber: human, description: '  Front desk ' });
    expect(res.errors).toBeUndefined();
    expect(res.data!.addPhoneNumber).toMatchObject({
      e164,
      type: 'LONG_CODE',
      direction: 'INBOUND_OUTBOUND',
      description: 'Front desk',
      messagingServiceSid: null,
      webhookWarning: null,
      twilioAccount: { id: s.account.id, accountSid: s.account.accountSid },
    });
    const list = await server.gql(LIST, {}, s.tenant.token);
    expect(list.data!.phoneNumbers).toEqual([expect.objectContaining({ e164, twilioAccount: { id: s.account.id } })]);
    const accounts = await server.gql('{ twilioAccounts { id phoneNumbers { e164 } } }', {}, s.tenant.token);
    expect(accounts.data!.twilioAccounts).toEqual([{ id: s.account.id, phoneNumbers: [{ e164 }] }]);
  });

  it('accepts other formats: digits with country code, other countries, short codes, toll-free', async () => {
    const s = await setup();
    const digits = randomUsNumber();
    const cases: Array<[Record<string, unknown>, Record<string, unknown>]> = [
      [{ phoneNumber: digits.slice(1) }, { e164: digits, type: 'LONG_CODE' }],
      [{ phoneNumber: '+44 20 7183 8750' }, { e164: '+442071838750' }],
      [{ phoneNumber: ` ${String(10000 + Math.floor(Math.random() * 89999))} ` }, { type: 'SHORT_CODE' }],
      [{ phoneNumber: '898-211', type: 'SHORT_CODE' }, { e164: '898211', type: 'SHORT_CODE' }],
      [{ phoneNumber: '+1 800 555 0100', type: 'TOLL_FREE', direction: 'OUTBOUND' }, { e164: '+18005550100', type: 'TOLL_FREE', direction: 'OUTBOUND' }],
    ];
    for (const [input, expected] of cases) {
      const res = await add(s, input);
      expect(res.errors, JSON.stringify(input)).toBeUndefined();
      expect(res.data!.addPhoneNumber).toMatchObject(expected);
      if (expected.type === 'SHORT_CODE') expect(res.data!.addPhoneNumber.e164).toMatch(/^\d{5,6}$/);
    }
  });

  it('refuses invalid numbers and SIDs with BAD_USER_INPUT, storing nothing', async () => {
    const s = await setup();
    const invalid: Array<Record<string, unknown>> = [
      { phoneNumber: '(415) 555-0100' },
      { phoneNumber: '415 555 0100' },
      { phoneNumber: '+1415555010' },
      { phoneNumber: '+1 415 555 0100 ext. 7' },
      { phoneNumber: 'call me' },
      { phoneNumber: '' },
      { phoneNumber: '1234', type: 'SHORT_CODE' },
      { phoneNumber: '1234567', type: 'SHORT_CODE' },
      { phoneNumber: randomUsNumber(), messagingServiceSid: 'MG123' },
      { phoneNumber: randomUsNumber(), messagingServiceSid: fakeSid('AC') },
    ];
    for (const input of invalid) {
      const res = await add(s, input);
      expect(errorCode(res), JSON.stringify(input)).toBe('BAD_USER_INPUT');
    }
    expect(await storedNumbers(s.tenant.tenantId)).toHaveLength(0);

    const mg = fakeSid('MG');
    const ok = await add(s, { phoneNumber: randomUsNumber(), messagingServiceSid: mg });
    expect(ok.data!.addPhoneNumber.messagingServiceSid).toBe(mg);
  });

  it("another tenant's account, or no account → NOT_FOUND", async () => {
    const a = await setup();
    const b = await setup();
    const res = await server.gql(ADD, { input: { twilioAccountId: a.account.id, phoneNumber: randomUsNumber() } }, b.tenant.token);
    expect(errorCode(res)).toBe('NOT_FOUND');
    const garbage = await server.gql(ADD, { input: { twilioAccountId: 'nope', phoneNumber: randomUsNumber() } }, b.tenant.token);
    expect(errorCode(garbage)).toBe('NOT_FOUND');
    expect(await storedNumbers(b.tenant.tenantId)).toHaveLength(0);
  });

  it('one number belongs to one tenant at a time: CONFLICT, and removal frees it', async () => {
    const a = await setup();
    const b = await setup();
    const { human, e164 } = humanAndE164();
    const first = await add(a, { phoneNumber: e164 });
    expect(first.errors).toBeUndefined();

    expect(errorCode(await add(b, { phoneNumber: human }))).toBe('CONFLICT');
    expect(errorCode(await add(a, { phoneNumber: e164 }))).toBe('CONFLICT');
    expect(await storedNumbers(b.tenant.tenantId)).toHaveLength(0);

    // B cannot remove A's number, and learns nothing about it.
    const foreign = await server.gql(REMOVE, { id: first.data!.addPhoneNumber.id }, b.tenant.token);
    expect(errorCode(foreign)).toBe('NOT_FOUND');

    const removed = await server.gql(REMOVE, { id: first.data!.addPhoneNumber.id }, a.tenant.token);
    expect(removed.errors).toBeUndefined();
    expect(removed.data!.removePhoneNumber).toBe(true);
    expect((await server.gql(LIST, {}, a.tenant.token)).data!.phoneNumbers).toEqual([]);
    // Soft delete: the row stays (conversations point at it) with removedAt set.
    const [row] = await storedNumbers(a.tenant.tenantId);
    expect(row!.removedAt).toBeInstanceOf(Date);
    expect(errorCode(await server.gql(REMOVE, { id: row!.id }, a.tenant.token))).toBe('NOT_FOUND');

    const taken = await add(b, { phoneNumber: e164 });
    expect(taken.errors).toBeUndefined();
    expect(taken.data!.addPhoneNumber.e164).toBe(e164);
  });

  it('two tenants racing for one number: exactly one wins', async () => {
    const a = await setup();
    const b = await setup();
    const e164 = randomUsNumber();
    const results = await Promise.all([add(a, { phoneNumber: e164 }), add(b, { phoneNumber: e164 })]);
    expect(results.map(errorCode).sort()).toEqual(['CONFLICT', undefined].sort());
    const active = await server.app.deps.db
      .select()
      .from(phoneNumbers)
      .where(and(eq(phoneNumbers.e164, e164), isNull(phoneNumbers.removedAt)));
    expect(active).toHaveLength(1);
  });

  it('is for admins only', async () => {
    const s = await setup();
    const agent = await createAgent(server, s.tenant.token);
    expect(errorCode(await add(s, { phoneNumber: randomUsNumber() }, agent.token))).toBe('FORBIDDEN');
    const ok = await add(s, { phoneNumber: randomUsNumber() });
    expect(errorCode(await server.gql(REMOVE, { id: ok.data!.addPhoneNumber.id }, agent.token))).toBe('FORBIDDEN');
    // Agents can read the numbers (they start conversations from them).
    expect((await server.gql(LIST, {}, agent.token)).data!.phoneNumbers).toHaveLength(1);
  });
});

describe('addPhoneNumber with configureTwilioWebhook', () => {
  it("sets the number's SmsUrl (POST) at Twilio to the account's inbound URL", async () => {
    const s = await setup();
    const e164 = randomUsNumber();
    const { sid } = fake.addIncomingNumber(s.account.accountSid, { phoneNumber: e164, smsUrl: 'https://old.example.com/sms' });
    const res = await addRaw(s, { phoneNumber: e164, configureTwilioWebhook: true });
    expect(res.errors).toBeUndefined();
    expect(res.data!.addPhoneNumber.webhookWarning).toBeNull();
    const remote = fake.numbers(s.account.accountSid).find((n) => n.sid === sid)!;
    expect(remote.smsUrl).toBe(s.account.inboundWebhookUrl);
    expect(remote.smsMethod).toBe('POST');
    const [row] = await storedNumbers(s.tenant.tenantId);
    expect(row!.twilioNumberSid).toBe(sid);
  });

  it('a number the account does not own → BAD_USER_INPUT, nothing stored', async () => {
    const s = await setup();
    const other = fake.addAccount();
    const e164 = randomUsNumber();
    fake.addIncomingNumber(other.sid, { phoneNumber: e164 });
    const res = await addRaw(s, { phoneNumber: e164, configureTwilioWebhook: true });
    expect(errorCode(res)).toBe('BAD_USER_INPUT');
    expect(res.errors![0]!.message).toContain(e164);
    expect(await storedNumbers(s.tenant.tenantId)).toHaveLength(0);
    expect(fake.numbers(other.sid)[0]!.smsUrl).toBe('');
  });

  it('a TwiML app on the number: SmsUrl still set, and the answer warns', async () => {
    const s = await setup();
    const e164 = randomUsNumber();
    fake.addIncomingNumber(s.account.accountSid, { phoneNumber: e164, smsApplicationSid: fakeSid('AP') });
    const res = await addRaw(s, { phoneNumber: e164, configureTwilioWebhook: true });
    expect(res.errors).toBeUndefined();
    expect(res.data!.addPhoneNumber.webhookWarning).toMatch(/TwiML app AP[0-9a-f]{32}/);
    expect(fake.numbers(s.account.accountSid)[0]!.smsUrl).toBe(s.account.inboundWebhookUrl);
  });

  it('Twilio failing → SERVICE_UNAVAILABLE and nothing stored', async () => {
    const s = await setup();
    const e164 = randomUsNumber();
    fake.addIncomingNumber(s.account.accountSid, { phoneNumber: e164 });
    fake.failNextRequests(1, { status: 500 });
    const res = await addRaw(s, { phoneNumber: e164, configureTwilioWebhook: true });
    expect(errorCode(res)).toBe('SERVICE_UNAVAILABLE');
    expect(await storedNumbers(s.tenant.tenantId)).toHaveLength(0);
    expect(fake.numbers(s.account.accountSid)[0]!.smsUrl).toBe('');
  });

  it('a CONFLICT leaves the Twilio number untouched', async () => {
    const a = await setup();
    const b = await setup();
    const e164 = randomUsNumber();
    expect((await add(a, { phoneNumber: e164 })).errors).toBeUndefined();
    fake.addIncomingNumber(b.account.accountSid, { phoneNumber: e164, smsUrl: 'https://keep.example.com/sms' });
    expect(errorCode(await add(b, { phoneNumber: e164, configureTwilioWebhook: true }))).toBe('CONFLICT');
    expect(fake.numbers(b.account.accountSid)[0]!.smsUrl).toBe('https://keep.example.com/sms');
  });
});

describe('number ownership (squatting)', () => {
  it('a number not on the tenant’s Twilio account is refused, even without configureTwilioWebhook', async () => {
    const squatter = await setup();
    const owner = await setup();
    const e164 = randomUsNumber();
    fake.addIncomingNumber(owner.account.accountSid, { phoneNumber: e164 });
    const res = await addRaw(squatter, { phoneNumber: e164 });
    expect(errorCode(res)).toBe('BAD_USER_INPUT');
    expect(await storedNumbers(squatter.tenant.tenantId)).toHaveLength(0);
    // The owner can still register it.
    expect((await addRaw(owner, { phoneNumber: e164 })).errors).toBeUndefined();
  });

  it('the pattern filter is compared exactly: a listed number that merely contains the digits proves nothing', async () => {
    const s = await setup();
    const wanted = randomUsNumber();
    // Twilio (and the fake) match the filter's digits anywhere: this one is listed for `wanted`.
    fake.addIncomingNumber(s.account.accountSid, { phoneNumber: `${wanted}9` });
    const res = await addRaw(s, { phoneNumber: wanted });
    expect(errorCode(res)).toBe('BAD_USER_INPUT');
    expect(fake.requests.some((r) => r.path.includes('IncomingPhoneNumbers.json') && r.status === 200)).toBe(true);
  });

  it('short codes are proven through /SMS/ShortCodes.json', async () => {
    const s = await setup();
    const code = String(10000 + Math.floor(Math.random() * 89999));
    expect(errorCode(await addRaw(s, { phoneNumber: code, type: 'SHORT_CODE' }))).toBe('BAD_USER_INPUT');
    fake.addShortCode(s.account.accountSid, code);
    const ok = await addRaw(s, { phoneNumber: code, type: 'SHORT_CODE' });
    expect(ok.errors).toBeUndefined();
    expect(fake.requests.some((r) => r.path.includes('/SMS/ShortCodes.json?') && r.path.includes(`ShortCode=${code}`))).toBe(true);
  });

  it('the conflict message names no number and no tenant', async () => {
    const a = await setup();
    const b = await setup();
    const e164 = randomUsNumber();
    expect((await add(a, { phoneNumber: e164 })).errors).toBeUndefined();
    const res = await add(b, { phoneNumber: e164 });
    expect(errorCode(res)).toBe('CONFLICT');
    const text = JSON.stringify(res.errors);
    expect(text).not.toContain(e164.slice(2));
    expect(text).not.toContain(a.tenant.tenantSlug);
    expect(text).not.toContain(a.account.accountSid);
  });
});
