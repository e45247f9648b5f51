/**
 * Opt-out and opt-in keywords, as Twilio applies them on long codes and toll-free numbers: only
 * a body that is exactly one keyword (any case, surrounding whitespace ignored) counts. Twilio's
 * Advanced Opt-Out tells us directly with OptOutType, which wins when present.
 * Twilio's current default lists: https://help.twilio.com/articles/223134027
 */
export type OptChange = 'OPT_OUT' | 'OPT_IN';

export const OPT_OUT_KEYWORDS: ReadonlySet<string> = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT']);
export const OPT_IN_KEYWORDS: ReadonlySet<string> = new Set(['START', 'YES', 'UNSTOP']);
/** Twilio answers these with the number's help text; they change no opt-out state. */
export const HELP_KEYWORDS: ReadonlySet<string> = new Set(['HELP', 'INFO']);

export type KeywordKind = 'OPT_OUT' | 'OPT_IN' | 'HELP';

/** The keyword a whole body is, if any (automations skip these: contract, AutomatedMessageTrigger). */
export function keywordOf(body: string): KeywordKind | null {
  const word = body.trim().toUpperCase();
  if (OPT_OUT_KEYWORDS.has(word)) return 'OPT_OUT';
  if (OPT_IN_KEYWORDS.has(word)) return 'OPT_IN';
  if (HELP_KEYWORDS.has(word)) return 'HELP';
  return null;
}

export function optChangeOf(body: string, optOutType?: string | null): OptChange | null {
  const type = optOutType?.trim().toUpperCase();
  if (type === 'STOP') return 'OPT_OUT';
  if (type === 'START') return 'OPT_IN';
  // HELP (or a type Twilio adds later) changes nothing; the body alone may still be a keyword.
  const keyword = keywordOf(body);
  return keyword === 'OPT_OUT' || keyword === 'OPT_IN' ? keyword : null;
}
