import { computeTwilioSignature } from '../../src/twilio/signature.js';
import {
  fakeTwilioAt,
  inboundSmsParams,
  statusCallbackParams,
  type FormParams,
  type InboundSmsInit,
  type StatusCallbackInit,
} from './fake-twilio.js';
import type { TestServer } from './test-server.js';

/**
 * Test set-up through the public API (contract mutations): a Twilio account connected against
 * the fake Twilio, and numbers registered on it.
 */
export const ACCOUNT_FIELDS =
  'id accountSid friendlyName apiBaseUrl inboundWebhookUrl statusCallbackUrl mediaEnabled acceptedMediaTypes createdAt';
export const NUMBER_FIELDS = 'id e164 type direction description messagingServiceSid createdAt';

export interface ConnectedAccount {
  id: string;
  accountSid: string;
  authToken: string;
  inboundWebhookUrl: string;
  statusCallbackUrl: string;
}

export async function connectAccount(
  server: TestServer,
  adminToken: string,
  fakeTwilioUrl: string,
  creds: { sid: string; authToken: string },
  extra: { mediaEnabled?: boolean; acceptedMediaTypes?: string[]; friendlyName?: string } = {},
): Promise<ConnectedAccount> {
  const res = await server.gql(
    `mutation($input: ConnectTwilioAccountInput!) { connectTwilioAccount(input: $input) { ${ACCOUNT_FIELDS} } }`,
    { input: { accountSid: creds.sid, authToken: creds.authToken, apiBaseUrl: fakeTwilioUrl, ...extra } },
    adminToken,
  );
  if (res.errors) throw new Error(`connectTwilioAccount failed: ${JSON.stringify(res.errors)}`);
  const account = res.data!.connectTwilioAccount as { id: string; accountSid: string; inboundWebhookUrl: string; statusCallbackUrl: string };
  connectedOn.set(account.id, { fakeTwilioUrl, accountSid: creds.sid });
  return { ...account, authToken: creds.authToken };
}

/** Which fake (and account) each connected account lives on, so addNumber can provision the number there. */
const connectedOn = new Map<string, { fakeTwilioUrl: string; accountSid: string }>();

/**
 * Registering a number proves it belongs to the Twilio account: the number is first bought, so
 * to speak, on the fake Twilio account (unless already there), then registered through the API.
 */
export function provisionOnFake(twilioAccountId: string, phoneNumber: string, type?: unknown): void {
  const where = connectedOn.get(twilioAccountId);
  const fake = where ? fakeTwilioAt(where.fakeTwilioUrl) : undefined;
  if (!where || !fake) return;
  const digits = phoneNumber.replace(/[^0-9+]/g, '');
  const e164 = digits.startsWith('+') ? digits : /^\d{3,8}$/.test(digits) ? digits : `+${digits}`;
  if (type === 'SHORT_CODE' || /^\d{3,8}$/.test(e164)) {
    fake.addShortCode(where.accountSid, e164);
    return;
  }
  if (!fake.numbers(where.accountSid).some((n) => n.phoneNumber === e164)) fake.addIncomingNumber(where.accountSid, { phoneNumber: e164 });
}

export async function addNumber(
  server: TestServer,
  adminToken: string,
  twilioAccountId: string,
  phoneNumber: string,
  extra: Record<string, unknown> = {},
): Promise<{ id: string; e164: string }> {
  provisionOnFake(twilioAccountId, phoneNumber, extra['type']);
  const res = await server.gql(
    `mutation($input: AddPhoneNumberInput!) { addPhoneNumber(input: $input) { ${NUMBER_FIELDS} } }`,
    { input: { twilioAccountId, phoneNumber, ...extra } },
    adminToken,
  );
  if (res.errors) throw new Error(`addPhoneNumber failed: ${JSON.stringify(res.errors)}`);
  return res.data!.addPhoneNumber as { id: string; e164: string };
}

// ---------------------------------------------------------------------------------------------
// Webhooks towards our server, signed the way Twilio signs them.

/**
 * Our server advertises URLs on PUBLIC_URL (http://localhost:PORT in tests) and listens on
 * 127.0.0.1: sign over the advertised URL, send to the real address, same path and query.
 */
export function localUrl(server: TestServer, advertisedUrl: string): string {
  return server.url + advertisedUrl.slice(new URL(advertisedUrl).origin.length);
}

export interface WebhookPostOptions {
  /** Signature to send instead of the right one; null sends none. */
  signature?: string | null;
  /** Token to sign with instead of the account's. */
  signWith?: string;
  headers?: Record<string, string>;
}

/** POSTs a form to one of our webhook URLs with X-Twilio-Signature computed over (advertisedUrl, params). */
export function postSignedForm(
  server: TestServer,
  advertisedUrl: string,
  authToken: string,
  params: FormParams,
  opts: WebhookPostOptions = {},
): Promise<Response> {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
  const signature =
    opts.signature === undefined ? computeTwilioSignature(opts.signWith ?? authToken, advertisedUrl, params) : opts.signature;
  return fetch(localUrl(server, advertisedUrl), {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(signature === null ? {} : { 'x-twilio-signature': signature }),
      ...opts.headers,
    },
    body: body.toString(),
  });
}

/** An inbound SMS/MMS from `from` to `to` on this account, signed with its token. */
export function sendInbound(
  server: TestServer,
  account: ConnectedAccount,
  init: Omit<InboundSmsInit, 'accountSid'>,
  opts: WebhookPostOptions = {},
): Promise<Response> {
  const params = inboundSmsParams({ accountSid: account.accountSid, ...init });
  return postSignedForm(server, account.inboundWebhookUrl, account.authToken, params, opts);
}

/** A status callback for one message; `messageId` goes in the URL's query string as we advertise it. */
export function sendStatus(
  server: TestServer,
  account: ConnectedAccount,
  init: Omit<StatusCallbackInit, 'accountSid'> & { messageId?: string },
  opts: WebhookPostOptions = {},
): Promise<Response> {
  const { messageId, ...rest } = init;
  const url = messageId
    ? `${account.statusCallbackUrl}?messageId=${encodeURIComponent(messageId)}`
    : account.statusCallbackUrl;
  return postSignedForm(server, url, account.authToken, statusCallbackParams({ accountSid: account.accountSid, ...rest }), opts);
}
