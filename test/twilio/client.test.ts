import http from 'node:http';
import net from 'node:net';
import { inspect } from 'node:util';
import { createRequire } from 'node:module';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTwilioApi, toTwilioApiError, type TwilioApi } from '../../src/twilio/client.js';
import {
  isOptOutErrorCode,
  isTransientTwilioFailure,
  TwilioApiError,
  twilioErrorMessage,
} from '../../src/twilio/errors.js';
import { isValidTwilioSignature } from '../../src/twilio/signature.js';
import {
  inboundSmsParams,
  signedFormPost,
  startFakeTwilio,
  statusCallbackParams,
  type FakeTwilio,
} from '../helpers/fake-twilio.js';

// Not exported by the SDK's index, and a CJS `exports.default`: load it the CJS way so Node and
// Vitest agree on what the default is.
const { default: TwilioServiceException } = createRequire(import.meta.url)(
  'twilio/lib/base/TwilioServiceException.js',
) as { default: new (response: { statusCode: number; body: unknown }) => Error };

let fake: FakeTwilio;
let account: { sid: string; accountSid: string; authToken: string };
let api: TwilioApi;

beforeAll(async () => {
  fake = await startFakeTwilio();
  account = fake.addAccount({ friendlyName: 'Acme Support' });
  api = createTwilioApi({ ...account, apiBaseUrl: fake.url });
});
afterEach(() => fake.reset());
afterAll(() => fake.close());

/** Awaits a rejection and returns it as a TwilioApiError (fails the test otherwise). */
async function failure(p: Promise<unknown>): Promise<TwilioApiError> {
  const err = await p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TwilioApiError);
  return err as TwilioApiError;
}

const STATUS_CB = 'https://inbox.example.com/twilio/status?m=msg_123';

describe('createTwilioApi against the fake Twilio', () => {
  it('fetches the account through the configured base URL', async () => {
    await expect(api.fetchAccount()).resolves.toEqual({
      sid: account.sid,
      status: 'active',
      friendlyName: 'Acme Support',
    });
    expect(fake.requests).toEqual([
      expect.objectContaining({ method: 'GET', path: `/2010-04-01/Accounts/${account.sid}.json`, status: 200 }),
    ]);
  });

  it('reports a suspended account status', async () => {
    const other = fake.addAccount({ status: 'suspended' });
    const a = await createTwilioApi({ ...other, apiBaseUrl: fake.url }).fetchAccount();
    expect(a.status).toBe('suspended');
  });

  it('turns a bad token into a permanent 401 / 20003', async () => {
    const bad = createTwilioApi({ accountSid: account.sid, authToken: 'wrong', apiBaseUrl: fake.url });
    const err = await failure(bad.fetchAccount());
    expect(err).toMatchObject({ status: 401, code: 20003, transient: false, kind: 'api' });
    expect(err.message).toContain('Authenticate');
    expect(err.message).not.toContain('wrong');
  });

  it('turns an unknown account into 20003 as well', async () => {
    const ghost = createTwilioApi({ accountSid: 'AC' + 'f'.repeat(32), authToken: 'x', apiBaseUrl: fake.url });
    const err = await failure(ghost.findIncomingNumber('+15005550006'));
    expect(err).toMatchObject({ status: 401, code: 20003, transient: false });
  });

  it('refuses a SID that is not an account SID on every call, the direct send included, before any request', async () => {
    for (const [sid, hint] of [['SK' + '1'.repeat(32), 'API Key'], ['XX' + '1'.repeat(32), '']] as const) {
      const bad = createTwilioApi({ accountSid: sid, authToken: 'x', apiBaseUrl: fake.url });
      for (const call of [
        () => bad.fetchAccount(),
        () => bad.deleteMessage('SM' + '1'.repeat(32)),
        () => bad.createMessage({ to: '+15005550006', from: '+15005550001', body: 'hi', statusCallback: STATUS_CB }),
      ]) {
        const err = await failure(call());
        expect(err).toMatchObject({ kind: 'unexpected', transient: false });
        expect(err.message).toMatch(/^Cannot create a Twilio client: accountSid must start with AC/);
        expect(err.message.includes('API Key')).toBe(hint !== '');
      }
    }
    expect(fake.requests).toEqual([]);
  });

  it('finds a number by exact E.164 and updates its SMS URL', async () => {
    const acct = fake.addAccount();
    const { sid } = fake.addIncomingNumber(acct.sid, { phoneNumber: '+15005550006' });
    fake.addIncomingNumber(acct.sid, { phoneNumber: '+15005550007', smsApplicationSid: 'AP' + '1'.repeat(32) });
    const a = createTwilioApi({ ...acct, apiBaseUrl: fake.url });

    await expect(a.findIncomingNumber('+15005550006')).resolves.toEqual({
      sid,
      phoneNumber: '+15005550006',
      smsUrl: null,
      smsApplicationSid: null,
      smsCapable: true,
    });
    await expect(a.findIncomingNumber('+15005550007')).resolves.toMatchObject({
      smsApplicationSid: 'AP' + '1'.repeat(32),
    });
    // Twilio's filter matches partial numbers (this one matches both); we want exactly one.
    await expect(a.findIncomingNumber('+1500555000')).resolves.toBeNull();
    await expect(a.findIncomingNumber('+15005550999')).resolves.toBeNull();
    expect(fake.requests[0]?.path).toBe(
      `/2010-04-01/Accounts/${acct.sid}/IncomingPhoneNumbers.json?PhoneNumber=%2B15005550006&PageSize=100`,
    );

    const hook = 'https://inbox.example.com/twilio/sms/acc_42';
    await a.updateIncomingNumberSmsUrl(sid, hook);
    expect(fake.numbers(acct.sid).find((n) => n.sid === sid)).toMatchObject({ smsUrl: hook, smsMethod: 'POST' });
    expect(fake.numbers(acct.sid).find((n) => n.sid !== sid)?.smsUrl).toBe('');
    await expect(a.findIncomingNumber('+15005550006')).resolves.toMatchObject({ smsUrl: hook });
  });

  it('reports a number without SMS capability', async () => {
    const acct = fake.addAccount();
    fake.addIncomingNumber(acct.sid, { phoneNumber: '+15005550010', smsCapable: false });
    const a = createTwilioApi({ ...acct, apiBaseUrl: fake.url });
    await expect(a.findIncomingNumber('+15005550010')).resolves.toMatchObject({ smsCapable: false });
  });

  it('follows next_page_uri (rebased onto apiBaseUrl) when Twilio pages the answer', async () => {
    const acct = fake.addAccount();
    // Twilio's filter is a partial match: 120 longer numbers contain the digits we look for,
    // and the exact one, created last, lands on the second page of 100.
    for (let i = 0; i < 120; i++) fake.addIncomingNumber(acct.sid, { phoneNumber: `+15005550110${String(i).padStart(3, '0')}` });
    const { sid } = fake.addIncomingNumber(acct.sid, { phoneNumber: '+15005550110' });
    const a = createTwilioApi({ ...acct, apiBaseUrl: fake.url });
    await expect(a.findIncomingNumber('+15005550110')).resolves.toMatchObject({ sid, phoneNumber: '+15005550110' });
    expect(fake.requests.map((r) => r.path)).toEqual([
      `/2010-04-01/Accounts/${acct.sid}/IncomingPhoneNumbers.json?PhoneNumber=%2B15005550110&PageSize=100`,
      `/2010-04-01/Accounts/${acct.sid}/IncomingPhoneNumbers.json?PhoneNumber=%2B15005550110&PageSize=100&Page=1`,
    ]);
  });

  it('does not list anything for a value that is not E.164', async () => {
    await expect(api.findIncomingNumber('')).resolves.toBeNull();
    await expect(api.findIncomingNumber('5005550006')).resolves.toBeNull();
    expect(fake.requests).toHaveLength(0);
  });

  it('updating an unknown number is a permanent 404', async () => {
    const err = await failure(api.updateIncomingNumberSmsUrl('PN' + '0'.repeat(32), 'https://x.example/sms'));
    expect(err).toMatchObject({ status: 404, code: 20404, transient: false });
  });

  it('creates a message and sends exactly the given params', async () => {
    const media = ['https://cdn.example.com/a.jpg', 'https://cdn.example.com/b.png'];
    const res = await api.createMessage({
      to: '+15558675310',
      from: '+15005550006',
      body: 'Héllo {there} 😀',
      mediaUrl: media,
      statusCallback: STATUS_CB,
    });
    expect(res.sid).toMatch(/^MM[0-9a-f]{32}$/);
    expect(res.status).toBe('queued');
    expect(fake.messageRequests).toHaveLength(1);
    expect(fake.messageRequests[0]).toMatchObject({ accountSid: account.sid, status: 201, sid: res.sid });
    expect(fake.messageRequests[0]?.params).toEqual({
      To: '+15558675310',
      From: '+15005550006',
      Body: 'Héllo {there} 😀',
      MediaUrl: media,
      StatusCallback: STATUS_CB,
    });
  });

  it('sends through a Messaging Service without From or MediaUrl', async () => {
    const mg = 'MG' + 'a'.repeat(32);
    const res = await api.createMessage({ to: '+15558675310', messagingServiceSid: mg, body: 'hi', statusCallback: STATUS_CB });
    expect(res.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(res.status).toBe('accepted');
    expect(fake.messageRequests[0]?.params).toEqual({
      To: '+15558675310',
      MessagingServiceSid: mg,
      Body: 'hi',
      StatusCallback: STATUS_CB,
    });
  });

  it('sends a single MediaUrl and an empty body', async () => {
    await api.createMessage({ to: '+15558675310', from: '+15005550006', body: '', mediaUrl: ['https://x.example/1.gif'], statusCallback: STATUS_CB });
    expect(fake.messageRequests[0]?.params).toEqual({
      To: '+15558675310',
      From: '+15005550006',
      Body: '',
      MediaUrl: 'https://x.example/1.gif',
      StatusCallback: STATUS_CB,
    });
  });

  const send = () => api.createMessage({ to: '+15558675310', from: '+15005550006', body: 'hi', statusCallback: STATUS_CB });

  it('500 is transient', async () => {
    fake.failNextMessages(1, { status: 500 });
    const err = await failure(send());
    expect(err).toMatchObject({ status: 500, code: 20500, transient: true, kind: 'api' });
    // The next one goes through: failures are consumed.
    await expect(send()).resolves.toMatchObject({ status: 'queued' });
  });

  it('503 without a JSON body is transient', async () => {
    fake.onMessage(() => ({ error: { status: 503 } }));
    const err = await failure(send());
    expect(err).toMatchObject({ status: 503, transient: true });
  });

  it('429 is transient and the SDK does not retry it by itself', async () => {
    fake.failNextMessages(3, { status: 429 });
    const err = await failure(send());
    expect(err).toMatchObject({ status: 429, code: 20429, transient: true });
    expect(fake.messageRequests).toHaveLength(1);
  });

  it('400 / 21211 is permanent and keeps Twilio code and message', async () => {
    fake.failNextMessages(1, { status: 400, code: 21211, message: "Invalid 'To' Phone Number: +1555" });
    const err = await failure(send());
    expect(err).toMatchObject({ status: 400, code: 21211, transient: false, kind: 'api' });
    expect(err.message).toContain("Invalid 'To' Phone Number");
    expect(err.moreInfo).toBe('https://www.twilio.com/docs/errors/21211');
  });

  it('400 / 21610 (opted out) is permanent and recognisable', async () => {
    fake.failNextMessages(1, { status: 400, code: 21610 });
    const err = await failure(send());
    expect(err.transient).toBe(false);
    expect(isOptOutErrorCode(err.code)).toBe(true);
  });

  it("maps Twilio's own validation errors (fake validates like Twilio)", async () => {
    const err = await failure(api.createMessage({ to: 'not-a-number', from: '+15005550006', body: 'x', statusCallback: STATUS_CB }));
    expect(err).toMatchObject({ status: 400, code: 21211, transient: false });
    const empty = await failure(api.createMessage({ to: '+15558675310', from: '+15005550006', body: '', statusCallback: STATUS_CB }));
    expect(empty).toMatchObject({ status: 400, code: 21602 });
  });

  it('maps an RFC 9457 error body (TwilioServiceException)', async () => {
    fake.failNextMessages(1, { status: 400, code: 21617, message: 'Body too long', rfc9457: true });
    const err = await failure(send());
    expect(err).toMatchObject({ status: 400, code: 21617, transient: false, kind: 'api' });
    expect(err.message).toContain('Body too long');
  });

  it('a dropped connection is a transient network error', async () => {
    fake.onMessage(() => ({ dropConnection: true }));
    const err = await failure(send());
    expect(err).toMatchObject({ status: null, code: null, transient: true, kind: 'network' });
  });

  it('times out after timeoutMs', async () => {
    const slow = createTwilioApi({ ...account, apiBaseUrl: fake.url }, { timeoutMs: 150 });
    fake.setLatency(1_000);
    const t0 = Date.now();
    const err = await failure(slow.fetchAccount());
    expect(Date.now() - t0).toBeLessThan(900);
    expect(err).toMatchObject({ status: null, code: null, transient: true, kind: 'timeout' });
  });

  it('a delayed answer within the timeout succeeds', async () => {
    fake.onMessage(() => ({ delayMs: 100 }));
    await expect(send()).resolves.toMatchObject({ status: 'queued' });
  });

  it('a closed port is a transient network error that does not leak credentials', async () => {
    const port = await closedPort();
    const down = createTwilioApi({ ...account, apiBaseUrl: `http://127.0.0.1:${port}` });
    const err = await failure(down.createMessage({ to: '+15558675310', from: '+15005550006', body: 'x', statusCallback: STATUS_CB }));
    expect(err).toMatchObject({ status: null, code: null, transient: true, kind: 'network' });
    expect(err.message).toContain('ECONNREFUSED');
    const dump = inspect(err, { depth: 20, showHidden: true }) + JSON.stringify(err);
    expect(dump).not.toContain(account.authToken);
    expect(dump).not.toContain(Buffer.from(`${account.sid}:${account.authToken}`).toString('base64'));
  });

  it('ignores TWILIO_REGION / TWILIO_EDGE: apiBaseUrl decides', async () => {
    const saved = { region: process.env['TWILIO_REGION'], edge: process.env['TWILIO_EDGE'] };
    process.env['TWILIO_REGION'] = 'au1';
    process.env['TWILIO_EDGE'] = 'sydney';
    try {
      const a = createTwilioApi({ ...account, apiBaseUrl: fake.url });
      await expect(a.fetchAccount()).resolves.toMatchObject({ sid: account.sid });
    } finally {
      restoreEnv('TWILIO_REGION', saved.region);
      restoreEnv('TWILIO_EDGE', saved.edge);
    }
  });

  it('never falls back to TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN from the environment', async () => {
    const saved = { sid: process.env['TWILIO_ACCOUNT_SID'], token: process.env['TWILIO_AUTH_TOKEN'] };
    process.env['TWILIO_ACCOUNT_SID'] = account.sid;
    process.env['TWILIO_AUTH_TOKEN'] = account.authToken;
    try {
      const noToken = createTwilioApi({ accountSid: account.sid, authToken: '', apiBaseUrl: fake.url });
      expect(await failure(noToken.fetchAccount())).toMatchObject({ kind: 'unexpected', transient: false });
      const noSid = createTwilioApi({ accountSid: '', authToken: account.authToken, apiBaseUrl: fake.url });
      expect(await failure(noSid.fetchAccount())).toMatchObject({ kind: 'unexpected', transient: false });
      expect(fake.requests).toHaveLength(0);
    } finally {
      restoreEnv('TWILIO_ACCOUNT_SID', saved.sid);
      restoreEnv('TWILIO_AUTH_TOKEN', saved.token);
    }
  });

  it('rejects (does not throw) on a SID that is not an account SID or a bad base URL', async () => {
    const p = createTwilioApi({ accountSid: 'SK' + '0'.repeat(32), authToken: 'x', apiBaseUrl: fake.url }).fetchAccount();
    expect(await failure(p)).toMatchObject({ kind: 'unexpected', transient: false, status: null });
    const q = createTwilioApi({ ...account, apiBaseUrl: 'ftp://example.com' }).fetchAccount();
    expect(await failure(q)).toMatchObject({ kind: 'unexpected', transient: false });
    expect(fake.requests).toHaveLength(0);
  });
});

describe('errors', () => {
  it('classifies transient failures', () => {
    expect(isTransientTwilioFailure('api', 429, null)).toBe(true);
    expect(isTransientTwilioFailure('api', 400, 20429)).toBe(true);
    expect(isTransientTwilioFailure('api', 500, null)).toBe(true);
    expect(isTransientTwilioFailure('api', 503, 20503)).toBe(true);
    expect(isTransientTwilioFailure('network', null, null)).toBe(true);
    expect(isTransientTwilioFailure('timeout', null, null)).toBe(true);
    expect(isTransientTwilioFailure('api', 400, 21211)).toBe(false);
    expect(isTransientTwilioFailure('api', 401, 20003)).toBe(false);
    expect(isTransientTwilioFailure('api', 404, 20404)).toBe(false);
    expect(isTransientTwilioFailure('unexpected', null, null)).toBe(false);
    // Sender queue full: drains by itself.
    expect(isTransientTwilioFailure('api', 400, 21611)).toBe(true);
  });

  it('has readable texts for the codes we surface', () => {
    const codes = [21211, 21408, 21606, 21608, 21610, 21611, 21612, 21614, 21617, 21623, 20003, 20429,
      30001, 30002, 30003, 30004, 30005, 30006, 30007, 30008, 30034];
    for (const code of codes) expect(twilioErrorMessage(code), String(code)).toMatch(/\w{3,}/);
    expect(new Set(codes.map(twilioErrorMessage)).size).toBe(codes.length);
    expect(twilioErrorMessage(99999)).toBeNull();
    expect(isOptOutErrorCode(21610)).toBe(true);
    expect(isOptOutErrorCode(21211)).toBe(false);
    expect(isOptOutErrorCode(null)).toBe(false);
  });

  it('maps exceptions built directly', () => {
    const svc = new TwilioServiceException({
      statusCode: 429,
      body: { type: 'https://www.twilio.com/docs/errors/20429', title: 'Too Many Requests', status: 429, code: 20429 },
    });
    expect(toTwilioApiError(svc)).toMatchObject({ status: 429, code: 20429, transient: true, kind: 'api' });
    expect(toTwilioApiError(new TypeError('boom'))).toMatchObject({ kind: 'unexpected', transient: false });
    const sys = Object.assign(new Error('getaddrinfo ENOTFOUND api.twilio.com'), { code: 'ENOTFOUND' });
    expect(toTwilioApiError(sys)).toMatchObject({ kind: 'network', transient: true });
  });
});

describe('fake Twilio helpers', () => {
  it('serves media behind Basic auth and a redirect that refuses forwarded credentials', async () => {
    const url = fake.addMedia(account.sid, 'image/png', new Uint8Array([137, 80, 78, 71]));
    expect(url).toMatch(new RegExp(`^${fake.url}/2010-04-01/Accounts/${account.sid}/Messages/MM[0-9a-f]{32}/Media/ME[0-9a-f]{32}$`));
    const auth = { Authorization: 'Basic ' + Buffer.from(`${account.sid}:${account.authToken}`).toString('base64') };

    expect((await fetch(url, { redirect: 'manual' })).status).toBe(401);

    const redirect = await fetch(url, { headers: auth, redirect: 'manual' });
    expect(redirect.status).toBe(307);
    const cdnUrl = redirect.headers.get('location') ?? '';
    expect(cdnUrl).toMatch(new RegExp(`^${fake.url}/cdn/`));

    const withCreds = await fetch(cdnUrl, { headers: auth });
    expect(withCreds.status).toBe(400);

    const ok = await fetch(cdnUrl);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('image/png');
    expect([...new Uint8Array(await ok.arrayBuffer())]).toEqual([137, 80, 78, 71]);

    // Following the redirect blindly forwards the header (same origin here) and fails.
    expect((await fetch(url, { headers: auth })).status).toBe(400);
  });

  it('another account cannot read the media', async () => {
    const url = fake.addMedia(account.sid, 'text/plain', 'hello');
    const other = fake.addAccount();
    const res = await fetch(url, {
      headers: { Authorization: 'Basic ' + Buffer.from(`${other.sid}:${other.authToken}`).toString('base64') },
      redirect: 'manual',
    });
    expect(res.status).toBe(404);
  });

  it('signedFormPost sends a form whose signature verifies against the URL', async () => {
    const received: { headers: http.IncomingHttpHeaders; body: string }[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(200, { 'Content-Type': 'text/xml' }).end('<Response/>');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/twilio/sms/acc_1?x=1`;
      const params = inboundSmsParams({
        accountSid: account.sid,
        from: '+15558675310',
        to: '+15005550006',
        body: 'Hi & bye = ok?',
        media: [
          { url: 'https://m.example/1', contentType: 'image/jpeg' },
          { url: 'https://m.example/2', contentType: 'image/png' },
        ],
        extra: { FromCity: undefined, OptOutType: 'STOP' },
      });
      const res = await signedFormPost(url, account.authToken, params);
      expect(res.status).toBe(200);

      const got = received[0];
      expect(got?.headers['content-type']).toBe('application/x-www-form-urlencoded');
      const form = Object.fromEntries(new URLSearchParams(got?.body ?? ''));
      expect(form).toEqual(params);
      const sig = String(got?.headers['x-twilio-signature']);
      expect(isValidTwilioSignature(account.authToken, sig, url, form)).toBe(true);
      expect(isValidTwilioSignature('other-token', sig, url, form)).toBe(false);

      expect(params['MessageSid']).toMatch(/^MM[0-9a-f]{32}$/);
      expect(params['SmsSid']).toBe(params['MessageSid']);
      expect(params['SmsMessageSid']).toBe(params['MessageSid']);
      expect(params).toMatchObject({
        AccountSid: account.sid,
        NumMedia: '2',
        NumSegments: '1',
        MediaUrl1: 'https://m.example/2',
        MediaContentType1: 'image/png',
        SmsStatus: 'received',
        ApiVersion: '2010-04-01',
        OptOutType: 'STOP',
      });
      expect(params).not.toHaveProperty('FromCity');

      // Headers can be overridden or removed, case-insensitively.
      await signedFormPost(url, account.authToken, { a: '1' }, { 'x-twilio-signature': null });
      expect(received[1]?.headers['x-twilio-signature']).toBeUndefined();
      await signedFormPost(url, account.authToken, { a: '1' }, { 'x-twilio-signature': 'forged' });
      expect(received[2]?.headers['x-twilio-signature']).toBe('forged');
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('builds SMS params with an SM sid and status callback params', () => {
    const p = inboundSmsParams({ accountSid: account.sid, from: '+1', to: '+2', body: 'x' });
    expect(p['MessageSid']).toMatch(/^SM[0-9a-f]{32}$/);
    expect(p['NumMedia']).toBe('0');
    expect(Object.keys(p).some((k) => k.startsWith('MediaUrl'))).toBe(false);
    const cb = statusCallbackParams({ accountSid: account.sid, messageSid: 'SM1', status: 'undelivered', from: '+1', to: '+2', errorCode: 30003 });
    expect(cb).toMatchObject({ MessageStatus: 'undelivered', SmsStatus: 'undelivered', ErrorCode: '30003', MessageSid: 'SM1' });
  });
});

function restoreEnv(name: string, value: string | undefined) {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

/** A port that was just listening and is now closed: connecting is refused. */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
