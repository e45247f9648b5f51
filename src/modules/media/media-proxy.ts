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

/**
 * Fetches a Twilio media URL the way Twilio requires: Basic auth with the account's SID and token
 * ("Enforce HTTP Auth on Media URLs"), then a redirect to a short-lived CDN URL that must be
 * fetched WITHOUT those credentials (they would leak to the CDN host, and S3 refuses a request
 * with two auth mechanisms). Credentials go only to the account's own API origin, never after a
 * redirect. Resolves once the headers are in; the body is left to stream.
 */
export async function fetchTwilioMedia(url: string, creds: TwilioCredentials, timeoutMs: number): Promise<Response> {
  let current: URL;
  try {
    current = new URL(url);
  } catch {
    throw new MediaFetchError('stored media URL is not a URL', 502);
  }
  const apiOrigin = new URL(creds.apiBaseUrl).origin;
  let sendCredentials = current.origin === apiOrigin;
  const basic = `Basic ${Buffer.from(`${creds.accountSid}:${creds.authToken}`).toString('base64')}`;

  // The deadline covers reaching the headers (redirects included), not streaming a large body.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      if (current.protocol !== 'https:' && current.protocol !== 'http:') {
        throw new MediaFetchError('media redirect to a non-HTTP URL', 502);
      }
      let res: Response;
      try {
        res = await fetch(current, {
          redirect: 'manual',
          headers: sendCredentials ? { authorization: basic } : {},
          signal: controller.signal,
        });
      } catch {
        throw controller.signal.aborted
          ? new MediaFetchError('Twilio media did not answer in time', 504)
          : new MediaFetchError('Twilio media could not be reached', 502);
      }
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        await res.body?.cancel();
        current = new URL(location, current);
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
