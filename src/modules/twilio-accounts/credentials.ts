import { randomBytes } from 'node:crypto';
import type { SecretBox } from '../../shared/secret-box.js';
import type { TwilioCredentials } from '../../twilio/client.js';
import type { TwilioAccountRow } from './twilio-accounts.schema.js';

export { DEFAULT_TWILIO_API_BASE_URL } from '../../twilio/client.js';

/** The sealed token is bound to its tenant and account SID: a copied ciphertext will not open elsewhere. */
function associatedData(tenantId: string, accountSid: string): string {
  return `twilio-auth-token:${tenantId}:${accountSid}`;
}

export function sealAuthToken(box: SecretBox, tenantId: string, accountSid: string, authToken: string): string {
  return box.seal(authToken, associatedData(tenantId, accountSid));
}

export function openAuthToken(box: SecretBox, account: Pick<TwilioAccountRow, 'tenantId' | 'accountSid' | 'authTokenSealed'>): string {
  return box.open(account.authTokenSealed, associatedData(account.tenantId, account.accountSid));
}

export function twilioCredentials(
  box: SecretBox,
  account: Pick<TwilioAccountRow, 'tenantId' | 'accountSid' | 'authTokenSealed' | 'apiBaseUrl'>,
): TwilioCredentials {
  return { accountSid: account.accountSid, authToken: openAuthToken(box, account), apiBaseUrl: account.apiBaseUrl };
}

/**
 * The URLs we advertise for one account. Signatures are checked against exactly these (never a
 * URL rebuilt from request headers), so they depend only on PUBLIC_URL and the account's key.
 */
export function webhookUrls(publicUrl: string, webhookKey: string): { inbound: string; status: string; fallback: string } {
  const base = `${publicUrl}/webhooks/twilio/${webhookKey}`;
  return { inbound: `${base}/sms`, status: `${base}/status`, fallback: `${base}/fallback` };
}

/** The status callback of one outbound message: our id in the query, so an early callback still matches. */
export function statusCallbackUrl(publicUrl: string, webhookKey: string, messageId: string): string {
  return `${webhookUrls(publicUrl, webhookKey).status}?messageId=${encodeURIComponent(messageId)}`;
}

/** 24 random bytes, base64url (32 characters): unguessable, and safe in a URL path as is. */
export function newWebhookKey(): string {
  return randomBytes(WEBHOOK_KEY_BYTES).toString('base64url');
}

const WEBHOOK_KEY_BYTES = 24;
const WEBHOOK_KEY = /^[A-Za-z0-9_-]{32,128}$/;

/** Shape check before any lookup: a malformed key is answered 404 without touching the database. */
export function isWellFormedWebhookKey(key: string): boolean {
  return WEBHOOK_KEY.test(key);
}
