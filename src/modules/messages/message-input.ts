import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { badInput } from '../../shared/errors.js';
import type { StoredMedia } from './messages.schema.js';

/** Twilio's limits for one outbound message. */
export const MAX_BODY_CHARS = 1600;
export const MAX_MEDIA = 10;
/** Twilio's total for one message's media. */
export const MAX_MEDIA_BYTES = 5 * 1024 * 1024;
const MAX_MEDIA_URL_LENGTH = 2048;
const MAX_IDEMPOTENCY_KEY_LENGTH = 200;

/** 1–1,600 characters, counted as Twilio counts them (code points, so an emoji is one). */
export function requireBody(body: string): string {
  if (body.trim().length === 0) throw badInput('The message body must not be empty', 'body');
  const chars = [...body].length;
  if (chars > MAX_BODY_CHARS) throw badInput(`The message body must be at most ${MAX_BODY_CHARS} characters (got ${chars})`, 'body');
  return body;
}

const CONTENT_TYPES: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  pdf: 'application/pdf',
  mp4: 'video/mp4',
  mp3: 'audio/mpeg',
  vcf: 'text/vcard',
};

/**
 * Public https URLs only (Twilio fetches them; http or private schemes would either fail later
 * or leak), at most 10. The content type is a guess from the extension, for display only:
 * Twilio reads the real one from the server.
 */
export function requireMediaUrls(urls: readonly string[] | null | undefined): StoredMedia[] {
  if (!urls || urls.length === 0) return [];
  if (urls.length > MAX_MEDIA) throw badInput(`At most ${MAX_MEDIA} media URLs per message`, 'mediaUrls');
  return urls.map((raw) => {
    let url: URL;
    try {
      url = new URL(raw.trim());
    } catch {
      throw badInput(`Not a valid URL: ${raw.slice(0, 100)}`, 'mediaUrls');
    }
    if (url.protocol !== 'https:') throw badInput('Media URLs must be https', 'mediaUrls');
    if (url.username || url.password) throw badInput('Media URLs must not carry credentials', 'mediaUrls');
    if (url.href.length > MAX_MEDIA_URL_LENGTH) throw badInput(`Media URLs must be at most ${MAX_MEDIA_URL_LENGTH} characters`, 'mediaUrls');
    const extension = /\.([a-z0-9]+)$/i.exec(url.pathname)?.[1]?.toLowerCase() ?? '';
    return { url: url.href, contentType: CONTENT_TYPES[extension] ?? 'application/octet-stream' };
  });
}

export function optionalIdempotencyKey(key: string | null | undefined): string | null {
  if (key === null || key === undefined) return null;
  const trimmed = key.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw badInput(`idempotencyKey must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`, 'idempotencyKey');
  }
  return trimmed;
}

/**
 * A customer's number as E.164. A number written without its country code is read in the
 * country of the number we send from (an agent on a US number types 415 555 0100).
 */
export function normalizeRecipient(raw: string, senderE164: string): string {
  const senderCountry: CountryCode | undefined = parsePhoneNumberFromString(senderE164)?.country;
  const parsed = parsePhoneNumberFromString(raw.trim(), senderCountry ? { defaultCountry: senderCountry } : undefined);
  if (!parsed || !parsed.isValid()) throw badInput(`Not a valid phone number: ${raw.slice(0, 40)}`, 'to');
  return parsed.number;
}
