/**
 * Opt-out and opt-in keywords, as Twilio applies them on long codes and toll-free numbers: only
 * a body that is exactly one keyword (any case, surrounding spaces ignored) counts. Twilio's
 * Advanced Opt-Out tells us directly with OptOutType, which wins when present.
 */
export type OptChange = 'OPT_OUT' | 'OPT_IN';

const OPT_OUT_WORDS = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT']);
const OPT_IN_WORDS = new Set(['START', 'YES', 'UNSTOP']);

export function optChangeOf(body: string, optOutType?: string | null): OptChange | null {
  const type = optOutType?.trim().toUpperCase();
  if (type === 'STOP') return 'OPT_OUT';
  if (type === 'START') return 'OPT_IN';
  // HELP (or a type Twilio adds later) changes nothing; the body alone may still be a keyword.
  const word = body.trim().toUpperCase();
  if (OPT_OUT_WORDS.has(word)) return 'OPT_OUT';
  if (OPT_IN_WORDS.has(word)) return 'OPT_IN';
  return null;
}
