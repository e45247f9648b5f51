import { countSegments } from '../../twilio/segments.js';
import type { TwilioParams } from '../../twilio/signature.js';
import type { StoredMedia } from '../messages/messages.schema.js';
import type { ContactGeo } from '../contacts/contacts.repository.js';
import { optChangeOf, type OptChange } from './opt-out.js';
import { isAccountMediaUrl } from '../media/media-proxy.js';

/** Posted parameters as the signature sees them: repeated names become arrays. */
export type WebhookParams = TwilioParams;

/** A malformed webhook: answered 400 (Twilio logs it), nothing stored. */
export class WebhookInputError extends Error {
  override name = 'WebhookInputError';
}

export function param(params: WebhookParams, name: string): string | undefined {
  const v = params[name];
  return Array.isArray(v) ? v[0] : v;
}

const SID = /^[A-Za-z]{2}[0-9a-fA-F]{32}$/;
const ADDRESS_MAX = 64;
// Twilio sends at most 10; the bound keeps a forged NumMedia from driving a long loop.
const MAX_MEDIA = 20;
const GEO_MAX = 100;

export interface InboundSms {
  messageSid: string;
  from: string;
  to: string;
  body: string;
  geo: ContactGeo;
  /** Accepted items only. */
  media: StoredMedia[];
  /** Items not exposed: media disabled on the account, or type not accepted. */
  mediaDropped: number;
  segments: number;
  optChange: OptChange | null;
}

export interface MediaPolicy {
  mediaEnabled: boolean;
  acceptedMediaTypes: readonly string[];
  /** The account's API root: media elsewhere is never stored (it would be fetched by our proxy). */
  apiBaseUrl?: string;
}

function isOnMediaOrigin(raw: string, policy: MediaPolicy): boolean {
  if (policy.apiBaseUrl === undefined) return /^https?:\/\//i.test(raw);
  try {
    return isAccountMediaUrl(new URL(raw), policy.apiBaseUrl, 'first');
  } catch {
    return false;
  }
}

function required(params: WebhookParams, name: string): string {
  const v = param(params, name)?.trim();
  if (!v) throw new WebhookInputError(`${name} is missing`);
  return v;
}

function address(params: WebhookParams, name: string): string {
  const v = required(params, name);
  if (v.length > ADDRESS_MAX) throw new WebhookInputError(`${name} is too long`);
  return v;
}

function geo(params: WebhookParams, name: string): string | null {
  const v = param(params, name)?.trim();
  return v ? v.slice(0, GEO_MAX) : null;
}

export function requireMessageSid(params: WebhookParams): string {
  const sid = required(params, 'MessageSid');
  if (!SID.test(sid)) throw new WebhookInputError('MessageSid is malformed');
  return sid;
}

/** `image/` accepts every image type; `application/pdf` exactly that; an empty list accepts all. */
export function isAcceptedMediaType(contentType: string, policy: MediaPolicy): boolean {
  if (!policy.mediaEnabled) return false;
  if (policy.acceptedMediaTypes.length === 0) return true;
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return policy.acceptedMediaTypes.some((entry) => (entry.endsWith('/') ? type.startsWith(entry) : type === entry));
}

export function parseInboundSms(params: WebhookParams, policy: MediaPolicy): InboundSms {
  const messageSid = requireMessageSid(params);
  const from = address(params, 'From');
  const to = address(params, 'To');
  // Stored as given (an empty Body is a media-only MMS).
  const body = param(params, 'Body') ?? '';

  const declared = Number.parseInt(param(params, 'NumMedia') ?? '0', 10);
  const count = Number.isFinite(declared) && declared > 0 ? Math.min(declared, MAX_MEDIA) : 0;
  const media: StoredMedia[] = [];
  let mediaDropped = 0;
  for (let i = 0; i < count; i++) {
    const url = param(params, `MediaUrl${i}`)?.trim();
    if (!url) continue;
    const contentType = param(params, `MediaContentType${i}`)?.trim() || 'application/octet-stream';
    if (!isOnMediaOrigin(url, policy) || !isAcceptedMediaType(contentType, policy)) {
      mediaDropped++;
      continue;
    }
    media.push({ url, contentType });
  }

  // Twilio counts what it actually received; our own count is the fallback.
  const given = Number.parseInt(param(params, 'NumSegments') ?? '', 10);
  const segments = Number.isFinite(given) && given >= 0 && given <= 1000 ? given : countSegments(body).segments;

  return {
    messageSid,
    from,
    to,
    body,
    geo: {
      city: geo(params, 'FromCity'),
      state: geo(params, 'FromState'),
      zip: geo(params, 'FromZip'),
      country: geo(params, 'FromCountry'),
    },
    media,
    mediaDropped,
    segments,
    optChange: optChangeOf(body, param(params, 'OptOutType')),
  };
}

export interface StatusCallback {
  /** Absent only when the callback is matched by our message id. */
  messageSid: string | null;
  twilioStatus: string;
  errorCode: number | null;
}

export function parseStatusCallback(params: WebhookParams): StatusCallback {
  const rawSid = param(params, 'MessageSid')?.trim() || param(params, 'SmsSid')?.trim() || null;
  if (rawSid !== null && !SID.test(rawSid)) throw new WebhookInputError('MessageSid is malformed');
  const twilioStatus = (param(params, 'MessageStatus') ?? param(params, 'SmsStatus'))?.trim();
  if (!twilioStatus) throw new WebhookInputError('MessageStatus is missing');
  const code = Number.parseInt(param(params, 'ErrorCode') ?? '', 10);
  return { messageSid: rawSid, twilioStatus, errorCode: Number.isFinite(code) && code > 0 ? code : null };
}
