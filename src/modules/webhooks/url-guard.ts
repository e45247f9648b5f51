import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { lookup as dnsLookupAsync } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';
import { badInput } from '../../shared/errors.js';

export const MAX_URL_LENGTH = 2048;

/** Only ordinary public unicast addresses: no loopback, private, link-local (cloud metadata), CGNAT, multicast… */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'unicast';
}

export class UnsafeUrlError extends Error {
  override name = 'UnsafeUrlError';
}

/**
 * Syntax and address checks of an endpoint URL, at registration and before every delivery:
 * https to public addresses only; with allowPrivate (tests, sandbox, development) also http and
 * loopback/private addresses. Throws UnsafeUrlError with a reason a tenant can act on.
 */
export async function assertSafeWebhookUrl(raw: string, allowPrivate: boolean): Promise<URL> {
  if (raw.length > MAX_URL_LENGTH) throw new UnsafeUrlError(`must be at most ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UnsafeUrlError('is not a valid URL');
  }
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:')) throw new UnsafeUrlError('must use https');
  if (url.username || url.password) throw new UnsafeUrlError('must not carry credentials');
  if (url.hash) throw new UnsafeUrlError('must not have a fragment');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  if (ipaddr.isValid(host)) {
    addresses = [host];
  } else {
    try {
      addresses = (await dnsLookupAsync(host, { all: true, verbatim: true })).map((a) => a.address);
    } catch {
      throw new UnsafeUrlError(`host ${host} does not resolve`);
    }
  }
  if (!allowPrivate && addresses.some((a) => !isPublicAddress(a))) {
    throw new UnsafeUrlError(`host ${host} is not a public address`);
  }
  if (url.protocol === 'http:' && addresses.some((a) => isPublicAddress(a))) {
    throw new UnsafeUrlError('must use https to a public address');
  }
  return url;
}

/** The same check as a BAD_USER_INPUT on the `url` field. */
export async function requireSafeWebhookUrl(raw: string, allowPrivate: boolean): Promise<string> {
  try {
    return (await assertSafeWebhookUrl(raw.trim(), allowPrivate)).toString();
  } catch (err) {
    if (err instanceof UnsafeUrlError) throw badInput(`url ${err.message}`, 'url');
    throw err;
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A DNS lookup for the delivery connection that refuses non-public answers: the name is resolved
 * once, by the connection itself, so a rebinding DNS server cannot pass the check and then point
 * the connection elsewhere.
 */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: object, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const list = addresses as LookupAddress[];
      const refused = !allowPrivate && list.some((a) => !isPublicAddress(a.address));
      if (refused) return callback(Object.assign(new Error(`${hostname} resolved to a non-public address`), { code: 'EADDRNOTPUBLIC' }), []);
      if ((options as { all?: boolean }).all) return callback(null, list);
      callback(null, list[0]!.address, list[0]!.family);
    });
  };
}
