import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { fakeSid, inboundSmsParams, type FakeTwilio } from '../helpers/fake-twilio.js';
import type { TestServer } from '../helpers/test-server.js';
import { serverWithFakeTwilio } from '../helpers/suite.js';
import { localUrl, postSignedForm, sendInbound } from '../helpers/twilio-setup.js';
import { computeTwilioSignature } from '../../src/twilio/signature.js';
import { EMPTY_TWIML, contactOf, messagesOf, randomUsNumber, tenantWithNumber, type TenantWithNumber } from './fixtures.js';

let server: TestServer;
let fake: FakeTwilio;
let a: TenantWithNumber;
let b: TenantWithNumber;

serverWithFakeTwilio({}, async (started) => {
  ({ server, fake } = started);
  a = await tenantWithNumber(server, fake);
  b = await tenantWithNumber(server, fake);
}, { resetFakeAfterEach: false });

async function expectNothingStored() {
  expect(await messagesOf(server, a.tenant.tenantId)).toHaveLength(0);
  expect(await messagesOf(server, b.tenant.tenantId)).toHaveLength(0);
}

/** For the few tests that must store one message to prove the rest was refused. */
async function clearMessages(t: TenantWithNumber) {
  await server.app.deps.db.execute(sql`delete from messages where tenant_id = ${t.tenant.tenantId}::uuid`);
}

function paramsFor(t: TenantWithNumber, extra: Record<string, string | undefined> = {}) {
  return inboundSmsParams({ accountSid: t.account.accountSid, from: randomUsNumber(), to: t.number.e164, body: 'hello', extra });
}

describe('inbound webhook security', () => {
  it('a missing or wrong signature → 403, nothing stored', async () => {
    const from = randomUsNumber();
    const init = { from, to: a.number.e164, body: 'forged' };
    expect((await sendInbound(server, a.account, init, { signature: null })).status).toBe(403);
    expect((await sendInbound(server, a.account, init, { signature: '' })).status).toBe(403);
    expect((await sendInbound(server, a.account, init, { signature: 'RSOYDt4T1cUTdK1PDd93/VVr8B8=' })).status).toBe(403);
    expect((await sendInbound(server, a.account, init, { signWith: 'f'.repeat(32) })).status).toBe(403);
    expect(await contactOf(server, a.tenant.tenantId, from)).toBeUndefined();
    await expectNothingStored();
  });

  it('a parameter changed after signing → 403 (every parameter is signed, empty ones too)', async () => {
    const params = paramsFor(a, { Body: '' });
    const signature = computeTwilioSignature(a.account.authToken, a.account.inboundWebhookUrl, params);
    const tampered = await postSignedForm(server, a.account.inboundWebhookUrl, a.account.authToken, { ...params, Body: 'x' }, { signature });
    expect(tampered.status).toBe(403);
    // Dropping the empty parameter changes the signed data as well.
    const { Body: _dropped, ...withoutBody } = params;
    const dropped = await postSignedForm(server, a.account.inboundWebhookUrl, a.account.authToken, withoutBody, { signature });
    expect(dropped.status).toBe(403);
    // An added, unknown parameter too.
    const added = await postSignedForm(server, a.account.inboundWebhookUrl, a.account.authToken, { ...params, Extra: '1' }, { signature });
    expect(added.status).toBe(403);
    await expectNothingStored();
    // The untouched request passes: the empty Body was part of the signature.
    const ok = await postSignedForm(server, a.account.inboundWebhookUrl, a.account.authToken, params, { signature });
    expect(ok.status).toBe(200);
    expect((await messagesOf(server, a.tenant.tenantId)).map((m) => m.body)).toEqual(['']);
    await clearMessages(a);
  });

  it('is checked against the advertised URL, not the Host the request came to', async () => {
    const params = paramsFor(a);
    // Signed over the address we were actually reached at: not what we advertised.
    const reachedAt = localUrl(server, a.account.inboundWebhookUrl);
    const signature = computeTwilioSignature(a.account.authToken, reachedAt, params);
    const res = await postSignedForm(server, a.account.inboundWebhookUrl, a.account.authToken, params, {
      signature,
      headers: { 'x-forwarded-host': new URL(reachedAt).host, 'x-forwarded-proto': 'http' },
    });
    expect(res.status).toBe(403);
    // A query string is part of the signed URL, exactly as received.
    const withQuery = `${a.account.inboundWebhookUrl}?a=1&b=%20`;
    const good = await postSignedForm(server, withQuery, a.account.authToken, params);
    expect(good.status).toBe(200);
    const wrongQuery = await postSignedForm(server, withQuery, a.account.authToken, params, {
      signature: computeTwilioSignature(a.account.authToken, `${a.account.inboundWebhookUrl}?a=1`, params),
    });
    expect(wrongQuery.status).toBe(403);
    await clearMessages(a);
  });

  it("another tenant's key with a valid signature of the first tenant's token → 403", async () => {
    // B's URL, A's parameters and token: the signature is A's, the URL is B's account.
    for (const params of [paramsFor(a), paramsFor(b)]) {
      const res = await postSignedForm(server, b.account.inboundWebhookUrl, a.account.authToken, params);
      expect(res.status).toBe(403);
    }
    await expectNothingStored();
  });

  it('AccountSid not matching the account → 403, even when signed with its token', async () => {
    const params = paramsFor(a, { AccountSid: fakeSid('AC') });
    const res = await postSignedForm(server, a.account.inboundWebhookUrl, a.account.authToken, params);
    expect(res.status).toBe(403);
    const missing = await postSignedForm(server, a.account.inboundWebhookUrl, a.account.authToken, paramsFor(a, { AccountSid: undefined }));
    expect(missing.status).toBe(403);
    await expectNothingStored();
  });

  it('an unknown or malformed key → 404', async () => {
    const unknown = a.account.inboundWebhookUrl.replace(/twilio\/[^/]+\//, `twilio/${'A'.repeat(32)}/`);
    expect((await postSignedForm(server, unknown, a.account.authToken, paramsFor(a))).status).toBe(404);
    const malformed = a.account.inboundWebhookUrl.replace(/twilio\/[^/]+\//, 'twilio/short/');
    expect((await postSignedForm(server, malformed, a.account.authToken, paramsFor(a))).status).toBe(404);
    const unknownStatus = a.account.statusCallbackUrl.replace(/twilio\/[^/]+\//, `twilio/${'B'.repeat(32)}/`);
    expect((await postSignedForm(server, unknownStatus, a.account.authToken, paramsFor(a))).status).toBe(404);
    await expectNothingStored();
  });

  it.each(['MessageSid', 'From', 'To'])('a signed webhook without %s → 400', async (name) => {
    const res = await postSignedForm(server, a.account.inboundWebhookUrl, a.account.authToken, paramsFor(a, { [name]: undefined }));
    expect(res.status).toBe(400);
    expect(await res.text()).not.toContain('Response');
    await expectNothingStored();
  });

  it('a body over 64 KiB → 413, nothing stored', async () => {
    const res = await postSignedForm(server, a.account.inboundWebhookUrl, a.account.authToken, paramsFor(a, { Body: 'x'.repeat(65 * 1024) }));
    expect(res.status).toBe(413);
    await expectNothingStored();
  });

  it('an unsupported content type → 415; GET → 404', async () => {
    const url = localUrl(server, a.account.inboundWebhookUrl);
    const xml = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: '<x/>' });
    expect(xml.status).toBe(415);
    expect((await fetch(url)).status).toBe(404);
    await expectNothingStored();
  });

  it('leaves the GraphQL endpoint’s JSON parsing alone', async () => {
    const res = await server.gql('{ twilioAccounts { id } }', {}, a.tenant.token);
    expect(res.errors).toBeUndefined();
    expect(res.data!.twilioAccounts).toEqual([{ id: a.account.id }]);
  });

  it('a valid request still answers empty TwiML (sanity check of this file’s set-up), charset or not', async () => {
    const res = await postSignedForm(server, a.account.inboundWebhookUrl, a.account.authToken, paramsFor(a));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(EMPTY_TWIML);
    const withCharset = await postSignedForm(server, a.account.inboundWebhookUrl, a.account.authToken, paramsFor(a), {
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' },
    });
    expect(withCharset.status).toBe(200);
    expect(await messagesOf(server, a.tenant.tenantId)).toHaveLength(2);
  });
});
