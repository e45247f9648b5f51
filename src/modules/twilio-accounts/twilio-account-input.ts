import { badInput } from '../../shared/errors.js';
import { refuseResolvedHost, refuseUrl, type OutboundPolicy } from '../../shared/outbound-guard.js';
import { DEFAULT_TWILIO_API_BASE_URL } from './credentials.js';

const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;
// RFC 6838 restricted names: `type/` (a prefix) or `type/subtype`.
const MEDIA_TYPE_ENTRY = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/([a-z0-9][a-z0-9!#$&^_.+-]{0,126})?$/;
const MAX_MEDIA_TYPE_ENTRIES = 50;
const MAX_FRIENDLY_NAME = 200;
const MAX_AUTH_TOKEN = 256;

export function requireAccountSid(raw: string): string {
  const sid = raw.trim();
  if (!ACCOUNT_SID.test(sid)) throw badInput('accountSid must be AC followed by 32 hexadecimal digits', 'accountSid');
  return sid;
}

export function requireAuthToken(raw: string): string {
  const token = raw.trim();
  if (token.length === 0) throw badInput('authToken must not be empty', 'authToken');
  if (token.length > MAX_AUTH_TOKEN || /\s/.test(token)) throw badInput('authToken is not a Twilio auth token', 'authToken');
  return token;
}

export function optionalFriendlyName(raw: string | null | undefined): string | null {
  if (raw === null || raw === undefined) return null;
  const name = raw.trim();
  if (name.length === 0) return null;
  if (name.length > MAX_FRIENDLY_NAME) throw badInput(`friendlyName must be at most ${MAX_FRIENDLY_NAME} characters`, 'friendlyName');
  return name;
}

/**
 * An API root is scheme + host (+ port), nothing else: every call path is appended to it, so a
 * path, query, fragment or user-info would silently send the tenant's credentials somewhere odd.
 */
export function normalizeApiBaseUrl(raw: string | null | undefined): string {
  if (raw === null || raw === undefined || raw.trim() === '') return DEFAULT_TWILIO_API_BASE_URL;
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw badInput('apiBaseUrl must be an http(s) URL such as https://api.twilio.com', 'apiBaseUrl');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw badInput('apiBaseUrl must use http or https', 'apiBaseUrl');
  if (url.username || url.password) throw badInput('apiBaseUrl must not contain credentials', 'apiBaseUrl');
  if (url.pathname !== '/' || url.search || url.hash || /[?#]/.test(raw)) {
    throw badInput('apiBaseUrl must be a root URL (scheme, host and port only), e.g. https://api.twilio.com', 'apiBaseUrl');
  }
  return url.origin;
}

/**
 * An API root that may be used (connect, and any later change such as updateTwilioAccount): the
 * normalised root, when it leads where Twilio can be (src/shared/outbound-guard.ts): https to
 * public addresses in production, or a host on TWILIO_API_ALLOWED_HOSTS. The name is resolved
 * now, and every connection the client makes is checked again (a name that later resolves
 * inward is refused at send time too). BAD_USER_INPUT otherwise.
 */
export async function requireReachableApiBaseUrl(raw: string | null | undefined, policy: OutboundPolicy): Promise<string> {
  const apiBaseUrl = normalizeApiBaseUrl(raw);
  const url = new URL(apiBaseUrl);
  const refused = refuseUrl(url, policy) ?? (await refuseResolvedHost(url.hostname, policy));
  if (refused) throw badInput(`apiBaseUrl ${refused}`, 'apiBaseUrl');
  return apiBaseUrl;
}

/** Lower-cased, de-duplicated; null when not given (a re-connect then keeps the stored list). */
export function normalizeAcceptedMediaTypes(raw: readonly string[] | null | undefined): string[] | null {
  if (raw === null || raw === undefined) return null;
  if (raw.length > MAX_MEDIA_TYPE_ENTRIES) {
    throw badInput(`acceptedMediaTypes takes at most ${MAX_MEDIA_TYPE_ENTRIES} entries`, 'acceptedMediaTypes');
  }
  const out: string[] = [];
  for (const entry of raw) {
    const value = entry.trim().toLowerCase();
    if (!MEDIA_TYPE_ENTRY.test(value)) {
      throw badInput(
        `acceptedMediaTypes: "${entry.slice(0, 100)}" is neither a type prefix such as image/ nor a type such as application/pdf`,
        'acceptedMediaTypes',
      );
    }
    if (!out.includes(value)) out.push(value);
  }
  return out;
}
