/**
 * How many SMS segments a body costs. Throughput and price are counted in segments, and the
 * UI shows the count while an agent types, so this mirrors what carriers do rather than
 * guessing from `body.length`.
 */

export interface SegmentCount {
  encoding: 'GSM-7' | 'UCS-2';
  /** 0 for an empty body: a media-only MMS has no text segment; callers decide what that costs. */
  segments: number;
  /** Septets for GSM-7 (extension characters count 2), UTF-16 code units for UCS-2. */
  units: number;
}

// GSM 03.38 default alphabet, in table order (0x1B, the escape itself, is left out: it is
// not a character a body can contain).
const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
// Extension table: sent as ESC + char, so each costs two septets.
const GSM_EXTENSION = '\f^{}\\[~]|€';

const GSM_BASIC_SET = new Set(GSM_BASIC);
const GSM_EXTENSION_SET = new Set(GSM_EXTENSION);

const GSM_SINGLE = 160;
const GSM_PART = 153; // 7 septets go to the concatenation header
const UCS2_SINGLE = 70;
const UCS2_PART = 67; // 3 code units go to the concatenation header

export function countSegments(body: string): SegmentCount {
  // Costs per character (code point), so that packing never splits an escape pair or a
  // surrogate pair: a phone cannot reassemble half of either.
  const costs: number[] = [];
  let gsm = true;
  for (const ch of body) {
    if (GSM_BASIC_SET.has(ch)) costs.push(1);
    else if (GSM_EXTENSION_SET.has(ch)) costs.push(2);
    else {
      gsm = false;
      break;
    }
  }

  if (!gsm) {
    costs.length = 0;
    // `for..of` walks code points: an astral character (emoji) is one step of length 2,
    // a lone surrogate is one step of length 1.
    for (const ch of body) costs.push(ch.length);
  }

  const units = costs.reduce((a, b) => a + b, 0);
  const [single, part] = gsm ? [GSM_SINGLE, GSM_PART] : [UCS2_SINGLE, UCS2_PART];
  return { encoding: gsm ? 'GSM-7' : 'UCS-2', units, segments: pack(costs, units, single, part) };
}

function pack(costs: number[], units: number, single: number, part: number): number {
  if (units === 0) return 0;
  if (units <= single) return 1;
  let segments = 1;
  let used = 0;
  for (const cost of costs) {
    if (used + cost > part) {
      segments++;
      used = 0;
    }
    used += cost;
  }
  return segments;
}
