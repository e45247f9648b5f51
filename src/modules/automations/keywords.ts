/**
 * Texts nothing automated may answer: Twilio's opt-out, opt-in and help keywords (a whole-body
 * single word, any case), besides any text Twilio flags with OptOutType. Twilio answers these
 * itself; a second answer from us would be noise at best and a compliance problem at worst.
 */
const KEYWORDS = new Set([
  'STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT',
  'START', 'YES', 'UNSTOP',
  'HELP', 'INFO',
]);

export function isComplianceKeyword(body: string): boolean {
  return KEYWORDS.has(body.trim().toUpperCase());
}

/** Whether an inbound text may get an automated answer at all. */
export function mayAnswerAutomatically(body: string, optOutType: string | null | undefined): boolean {
  return !(optOutType && optOutType.trim() !== '') && !isComplianceKeyword(body);
}
