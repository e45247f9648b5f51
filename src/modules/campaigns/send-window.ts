import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { DateTime } from 'luxon';

/**
 * The recipient's local time, as far as a phone number tells it. Approximations, by design:
 * - a country with one time zone gives it (Spain and Portugal as their mainland, Chile as Santiago);
 * - US and Canadian numbers by area code, for the area codes listed below whose area lies in one
 *   zone; an area code is where the number was issued, not where its owner is now;
 * - anything else takes the sending number's zone by the same rules, and UTC when that is unknown too.
 */
const COUNTRY_ZONES: Record<string, string> = {
  GB: 'Europe/London', IE: 'Europe/Dublin', FR: 'Europe/Paris', DE: 'Europe/Berlin', ES: 'Europe/Madrid',
  IT: 'Europe/Rome', NL: 'Europe/Amsterdam', BE: 'Europe/Brussels', CH: 'Europe/Zurich', AT: 'Europe/Vienna',
  SE: 'Europe/Stockholm', NO: 'Europe/Oslo', DK: 'Europe/Copenhagen', FI: 'Europe/Helsinki', PL: 'Europe/Warsaw',
  CZ: 'Europe/Prague', PT: 'Europe/Lisbon', GR: 'Europe/Athens', IL: 'Asia/Jerusalem', IN: 'Asia/Kolkata',
  JP: 'Asia/Tokyo', KR: 'Asia/Seoul', CN: 'Asia/Shanghai', SG: 'Asia/Singapore', HK: 'Asia/Hong_Kong',
  PH: 'Asia/Manila', NZ: 'Pacific/Auckland', ZA: 'Africa/Johannesburg', NG: 'Africa/Lagos', KE: 'Africa/Nairobi',
  AE: 'Asia/Dubai', SA: 'Asia/Riyadh', TR: 'Europe/Istanbul', AR: 'America/Argentina/Buenos_Aires',
  CO: 'America/Bogota', PE: 'America/Lima', CL: 'America/Santiago', PR: 'America/Puerto_Rico', JM: 'America/Jamaica',
};

const NANP_ZONES: Array<[string, string]> = [
  ['America/New_York', '201 202 203 212 215 216 267 301 302 305 347 404 407 410 412 413 416 437 438 514 516 518 571 585 603 609 610 613 614 617 631 646 647 678 703 704 716 718 732 757 770 772 786 813 845 856 862 904 905 908 914 917 929 954 973'],
  ['America/Chicago', '204 214 217 224 262 281 309 312 314 316 331 405 414 469 479 501 504 507 512 608 612 615 630 636 651 682 708 713 715 731 737 773 779 815 816 817 832 847 901 913 918 920 936 940 952 956 972'],
  ['America/Denver', '303 307 385 403 406 435 505 587 719 720 780 801 970'],
  ['America/Phoenix', '480 520 602 623 928'],
  ['America/Los_Angeles', '206 209 213 236 250 253 310 323 360 408 415 424 425 442 503 509 510 530 559 562 604 619 626 628 650 657 661 669 702 707 714 725 747 760 775 778 805 818 831 858 909 916 925 949 971'],
];
const AREA_CODE_ZONES = new Map<string, string>(NANP_ZONES.flatMap(([zone, codes]) => codes.split(' ').map((c) => [c, zone] as [string, string])));

function zoneOfNumber(e164: string): string | null {
  const parsed = parsePhoneNumberFromString(e164);
  if (!parsed) return null;
  if (parsed.countryCallingCode === '1') return AREA_CODE_ZONES.get(parsed.nationalNumber.slice(0, 3)) ?? null;
  return parsed.country ? (COUNTRY_ZONES[parsed.country] ?? null) : null;
}

export function recipientZone(recipientE164: string, senderE164: string): string {
  return zoneOfNumber(recipientE164) ?? zoneOfNumber(senderE164) ?? 'UTC';
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
}

/**
 * Null when `now` is inside the daily window [start, end) in `zone`; otherwise the next time the
 * window opens. A window whose end is before its start runs over midnight (21:00–08:00).
 */
export function nextWindowOpening(now: Date, zone: string, start: string, end: string): Date | null {
  const local = DateTime.fromJSDate(now).setZone(zone);
  const minutes = local.hour * 60 + local.minute;
  const s = minutesOf(start);
  const e = minutesOf(end);
  if (s === e) return null;
  const inside = s < e ? minutes >= s && minutes < e : minutes >= s || minutes < e;
  if (inside) return null;
  let opening = local.set({ hour: Math.floor(s / 60), minute: s % 60, second: 0, millisecond: 0 });
  if (opening <= local) opening = opening.plus({ days: 1 });
  return opening.toJSDate();
}
