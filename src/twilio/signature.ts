/**
 * X-Twilio-Signature: computing and checking it per tenant.
 *
 * twilio-node's `validateRequest` does the same, but we keep our own copy because the
 * auth token differs per account (the SDK's Express middleware reads one from the environment)
 * and because we want to be strict about which URL variants are accepted: we always check
 * against the URL we advertised to Twilio, so none of the SDK's "normalise the URL the framework
 * gave us" fallbacks are needed.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export type TwilioParams = Record<string, string | string[]>;

/**
 * HMAC-SHA1 (base64) of the URL followed by every parameter as `name + value`.
 *
 * Names are sorted with the default (UTF-16 code unit, case-sensitive) sort, which is what
 * twilio-node does. Repeated keys (arrays) contribute once per distinct value, values sorted:
 * twilio-node and twilio-python both de-duplicate, so a signature Twilio made for a body
 * with a repeated identical pair only verifies if we do too.
 */
export function computeTwilioSignature(authToken: string, url: string, params: TwilioParams): string {
  let data = url;
  for (const name of Object.keys(params).sort()) {
    const value = params[name];
    if (Array.isArray(value)) {
      for (const v of [...new Set(value)].sort()) data += name + v;
    } else if (value !== undefined) {
      data += name + value;
    }
  }
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/**
 * True when `signature` is Twilio's signature of (url, params) under `authToken`.
 *
 * Twilio signs the URL exactly as it called it; whether that string carried the default port
 * depends on how it was configured, so both forms are tried (only the scheme's default port:
 * stripping any other port would accept a signature made for a different endpoint).
 */
export function isValidTwilioSignature(
  authToken: string,
  signature: string | undefined,
  url: string,
  params: TwilioParams,
): boolean {
  if (!signature || !authToken) return false;
  // The URL as advertised matches almost always; the port variants are for the rare proxy that
  // adds or drops a default port. Which form matched is not a secret (the URL is ours), so stop
  // at the first match: it saves two HMACs over every parameter on the webhook hot path.
  return urlPortVariants(url).some((candidate) => safeEqual(signature, computeTwilioSignature(authToken, candidate, params)));
}

/**
 * The JSON-body scheme: Twilio appends `bodySHA256=<hex sha256 of the raw body>` to the URL
 * and signs that URL alone (no parameters). Both the hash and the signature must match.
 */
export function isValidTwilioJsonSignature(
  authToken: string,
  signature: string | undefined,
  url: string,
  rawBody: string,
): boolean {
  if (!signature || !authToken) return false;
  let claimedHash: string | null;
  try {
    claimedHash = new URL(url).searchParams.get('bodySHA256');
  } catch {
    return false;
  }
  if (!claimedHash) return false;
  const actualHash = createHash('sha256').update(rawBody, 'utf8').digest('hex');
  // Hex case is not significant in a hash; Twilio sends lowercase, accept either.
  const hashOk = safeEqual(claimedHash.toLowerCase(), actualHash);
  const signatureOk = isValidTwilioSignature(authToken, signature, url, {});
  return hashOk && signatureOk;
}

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  // timingSafeEqual throws on different lengths; the expected length is fixed by the
  // algorithm and not secret, so an early return leaks nothing.
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443' };

/**
 * The URL as given, plus the same string with the scheme's default port added or removed.
 * Done on the raw string (not via `new URL`, which would normalise the path and query and so
 * change the bytes Twilio signed).
 */
function urlPortVariants(url: string): string[] {
  const variants = [url];
  const m = /^([a-z][a-z0-9+.-]*:)\/\/([^/?#]*)(.*)$/is.exec(url);
  if (!m) return variants;
  const [, scheme = '', authority = '', rest = ''] = m;
  const defaultPort = DEFAULT_PORTS[scheme.toLowerCase()];
  if (!defaultPort) return variants;
  const at = authority.lastIndexOf('@');
  const userInfo = authority.slice(0, at + 1);
  const hostPort = authority.slice(at + 1);
  // Skip the colons inside an IPv6 literal ("[::1]:443").
  const colon = hostPort.indexOf(':', hostPort.lastIndexOf(']') + 1);
  const host = colon === -1 ? hostPort : hostPort.slice(0, colon);
  const port = colon === -1 ? null : hostPort.slice(colon + 1);
  if (port === null) {
    variants.push(`${scheme}//${userInfo}${host}:${defaultPort}${rest}`);
  } else if (port === defaultPort) {
    variants.push(`${scheme}//${userInfo}${host}${rest}`);
  }
  return variants;
}
