import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { badInput } from '../../shared/errors.js';
import { NumberType } from './phone-number.enums.js';

const SHORT_CODE = /^\d{5,6}$/;
const MESSAGING_SERVICE_SID = /^MG[0-9a-fA-F]{32}$/;
const MAX_DESCRIPTION = 500;

export interface NormalizedNumber {
  e164: string;
  type: NumberType;
}

/**
 * `+1 (415) 555-0100` → `+14155550100`; a short code stays its 5–6 digits. Numbers must carry
 * their country code: "(415) 555-0100" could be any country's, so it is refused rather than guessed.
 * Used for our own numbers only; customers' numbers come from Twilio already in E.164.
 */
export function normalizePhoneNumber(raw: string, type: NumberType | null | undefined): NormalizedNumber {
  const input = raw.trim();
  const compact = input.replace(/[\s.-]/g, '');
  if (type === NumberType.SHORT_CODE || ((type === null || type === undefined) && SHORT_CODE.test(compact))) {
    if (!SHORT_CODE.test(compact)) throw badInput('A short code is 5 or 6 digits', 'phoneNumber');
    return { e164: compact, type: NumberType.SHORT_CODE };
  }
  // Without a +, the digits are accepted only when they are a valid number as an international
  // one (14155550100); a national form such as (415) 555-0100 almost never is, and is refused.
  const candidate = input.startsWith('+') ? input : /^[\d\s().-]+$/.test(input) ? `+${input.replace(/\D/g, '')}` : null;
  const parsed = candidate ? parsePhoneNumberFromString(candidate) : undefined;
  if (!parsed || !parsed.isValid() || parsed.ext) {
    throw badInput(
      `"${input.slice(0, 40)}" is not a valid phone number; give it in international format with its country code, e.g. +14155550100`,
      'phoneNumber',
    );
  }
  return { e164: parsed.number, type: type ?? NumberType.LONG_CODE };
}

export function optionalMessagingServiceSid(raw: string | null | undefined): string | null {
  if (raw === null || raw === undefined || raw.trim() === '') return null;
  const sid = raw.trim();
  if (!MESSAGING_SERVICE_SID.test(sid)) {
    throw badInput('messagingServiceSid must be MG followed by 32 hexadecimal digits', 'messagingServiceSid');
  }
  return sid;
}

export function optionalDescription(raw: string | null | undefined): string | null {
  if (raw === null || raw === undefined) return null;
  const text = raw.trim();
  if (text.length === 0) return null;
  if (text.length > MAX_DESCRIPTION) throw badInput(`description must be at most ${MAX_DESCRIPTION} characters`, 'description');
  return text;
}
