import { fetch as undiciFetch } from 'undici';
import { guardedDispatcher, refuseUrl, type OutboundPolicy } from '../../shared/outbound-guard.js';
import type { TwilioCredentials } from '../../twilio/client.js';

const MAX_REDIRECTS = 5;

export class MediaFetchError extends Error {
  override name = 'MediaFetchError';
  constructor(
    message: string,
    /** What our route answers: 404 when Twilio no longer has it, 502/504 otherwise. */
    readonly httpStatus: number,
  ) {
    super(message);
  }
}

/** The response our route streams: status, headers and a web body. */
export type MediaResponse = Awaited<ReturnType<typeof undiciFetch>>;

// The real Twilio serves media from its API host and redirects to its CDN (or the S3 bucket
// behind it); nothing else is Twilio's media.
const TWILIO_HOST = /(^|\.)twilio\.com$/i;
const TWILIO_CDN_HOST = /(^|\.)(twilio\.com|twiliocdn\.com|amazonaws\.com)$/i;

function isRealTwilio(apiRoot: URL): boolean {
  return apiRoot.protocol === 'https:' && TWILIO_HOST.test(apiRoot.hostname);
}

/**
 * Whether a URL is the account's media: first hop on the account's own API origin (for the real
 * Twilio, any https *.twilio.com host); later hops (redirects) also on its CDN. For another API
 * root (a Twilio-compatible service, the sandbox, the tests' fake), its exact origin only.
 */
export function isAccountMediaUrl(url: URL, apiBaseUrl: string, hop: 'first' | 'redirect'): boolean {
  let root: URL;
  try {
    root = new URL(apiBaseUrl);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  if (isRealTwilio(root)) {
    if (url.protocol !== 'https:') return false;
    return (hop === 'first' ? TWILIO_HOST : TWILIO_CDN_HOST).test(url.hostname);
  }
  return url.origin === root.origin;
}

/**
 * Fetches a Twilio media URL the way Twilio requires: Basic auth with the account's SID and token
 * ("Enforce HTTP Auth on Media URLs"), then a redirect to a short-lived CDN URL that must be
 * fetched WITHOUT those credentials (they would leak to the CDN host, and S3 refuses a request
 * with two auth mechanisms). Credentials go only to the account's own API origin, never after a
 * redirect. Every hop must be the account's media origin (see isAccountMediaUrl) and is connected
 * through the outbound guard (vetted addresses only, checked on the connected socket), so a
 * forged MediaUrl or a redirect can never reach our own network. Resolves once the headers are
 * in; the body is left to stream.
 */
export async function fetchTwilioMedia(
  url: string,
  creds: TwilioCredentials,
  timeoutMs: number,
  policy: OutboundPolicy,
): Promise<MediaResponse> {
  let current: URL;
  try {
    current = new URL(url);
  } catch {
    throw new MediaFetchError('stored media URL is not a URL', 502);
  }
  const apiOrigin = new URL(creds.apiBaseUrl).origin;
  let sendCredentials = current.origin === apiOrigin;
  const basic = `Basic ${Buffer.from(`${creds.accountSid}:${creds.authToken}`).toString('base64')}`;
  const dispatcher = guardedDispatcher(policy);

  // The deadline covers reaching the headers (redirects included), not streaming a large body.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      if (!isAccountMediaUrl(current, creds.apiBaseUrl, hop === 0 ? 'first' : 'redirect')) {
        throw new MediaFetchError(`media ${hop === 0 ? 'URL' : 'redirect'} is not on the account's Twilio media origin`, 502);
      }
      const refused = refuseUrl(current, policy);
      if (refused) throw new MediaFetchError(`media ${hop === 0 ? 'URL' : 'redirect'} refused: ${refused}`, 502);
      let res: MediaResponse;
      try {
        res = await undiciFetch(current, {
          redirect: 'manual',
          headers: sendCredentials ? { authorization: basic } : {},
          signal: controller.signal,
          dispatcher,
        });
      } catch {
        throw controller.signal.aborted
          ? new MediaFetchError('Twilio media did not answer in time', 504)
          : new MediaFetchError('Twilio media could not be reached', 502);
      }
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        await res.body?.cancel();
        try {
          current = new URL(location, current);
        } catch {
          throw new MediaFetchError('media redirect to an invalid URL', 502);
        }
        sendCredentials = false;
        continue;
      }
      if (!res.ok) {
        await res.body?.cancel();
        throw new MediaFetchError(`Twilio media answered HTTP ${res.status}`, res.status === 404 ? 404 : 502);
      }
      return res;
    }
    throw new MediaFetchError('too many media redirects', 502);
  } finally {
    clearTimeout(timer);
  }
}
