/**
 * One error type for everything that can go wrong talking to Twilio's REST API, carrying what
 * the outbox needs to decide between "retry later" and "fail the message now".
 */

/**
 * - `api`: Twilio answered with an HTTP error (status and usually a Twilio code).
 * - `network`: no answer (refused, reset, DNS...). The request may or may not have arrived.
 * - `timeout`: we gave up waiting. For a create, Twilio may have accepted the message anyway.
 * - `unexpected`: anything else (bad arguments, unparsable answer): retrying will not help.
 */
export type TwilioApiErrorKind = 'api' | 'network' | 'timeout' | 'unexpected';

export interface TwilioApiErrorInit {
  kind: TwilioApiErrorKind;
  status: number | null;
  code: number | null;
  moreInfo?: string | null;
  /** Defaults to {@link isTransientTwilioFailure}(kind, status, code). */
  transient?: boolean;
  /** Never pass an SDK/axios error here: they hold the request config, Basic auth included. */
  cause?: unknown;
}

export class TwilioApiError extends Error {
  /** HTTP status Twilio answered with; null when there was no answer. */
  readonly status: number | null;
  /** Twilio error code (21211, 20003...), when Twilio gave one. */
  readonly code: number | null;
  /** True when the same request may succeed later (retry with backoff). */
  readonly transient: boolean;
  readonly kind: TwilioApiErrorKind;
  readonly moreInfo: string | null;

  constructor(message: string, init: TwilioApiErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'TwilioApiError';
    this.kind = init.kind;
    this.status = init.status;
    this.code = init.code;
    this.moreInfo = init.moreInfo ?? null;
    this.transient = init.transient ?? isTransientTwilioFailure(init.kind, init.status, init.code);
  }
}

/**
 * Retry on rate limiting (HTTP 429 / code 20429), on Twilio's own failures (5xx), and when no
 * answer came back. Other 4xx are about this request and will fail the same way again.
 *
 * 21611 ("this From number has too many queued messages") is the exception among 4xx: it is
 * Twilio's per-sender queue being full, which drains on its own, so a later retry succeeds.
 */
export function isTransientTwilioFailure(
  kind: TwilioApiErrorKind,
  status: number | null,
  code: number | null,
): boolean {
  if (kind === 'network' || kind === 'timeout') return true;
  if (kind === 'unexpected') return false;
  if (code === 20429 || code === 21611) return true;
  if (status === null) return true;
  return status === 429 || status >= 500;
}

/** The recipient replied STOP (or similar) to this sender: record the opt-out, do not retry. */
export function isOptOutErrorCode(code: number | null | undefined): boolean {
  return code === 21610;
}

/** Invalid Account SID / Auth Token. */
export function isAuthErrorCode(code: number | null | undefined): boolean {
  return code === 20003;
}

// Wording meant for an agent or an admin reading a failed message, not for developers; the
// doc link (https://www.twilio.com/docs/errors/<code>) has the details.
const MESSAGES: Readonly<Record<number, string>> = {
  10001: 'The Twilio account is not active',
  20003: 'Twilio rejected the Account SID or Auth Token',
  20404: 'The Twilio resource was not found',
  20429: 'Too many requests to Twilio; will retry',
  20500: 'Twilio had an internal error',
  20503: 'Twilio is temporarily unavailable',
  21211: "The 'To' phone number is not valid",
  21212: "The 'From' phone number is not valid",
  21266: "The 'To' and 'From' numbers cannot be the same",
  21408: 'Sending to this region is not enabled on the Twilio account (Geo Permissions)',
  21602: 'The message needs a body or media',
  21603: "A 'From' number or Messaging Service is required",
  21604: "A 'To' phone number is required",
  21606: "The 'From' number is not an SMS-capable number of this Twilio account",
  21608: 'Trial accounts can only send to verified numbers',
  21610: 'The recipient has opted out (replied STOP) and cannot be messaged from this number',
  21611: "The 'From' number has too many queued messages; will retry later",
  21612: "Twilio cannot route a message between this 'To' and 'From' pair",
  21614: "The 'To' number is not a mobile number that can receive SMS",
  21617: 'The message body exceeds the 1,600 character limit',
  21620: 'A media URL is invalid',
  21623: 'Too many media files (at most 10)',
  30001: 'Delivery failed: the sender queue overflowed',
  30002: 'Delivery failed: the Twilio account is suspended',
  30003: 'Delivery failed: the handset is unreachable (off or out of coverage)',
  30004: 'Delivery failed: the message was blocked (the recipient or carrier blocks it)',
  30005: 'Delivery failed: unknown handset (the number does not exist)',
  30006: 'Delivery failed: landline or unreachable carrier',
  30007: 'Delivery failed: the carrier filtered the message',
  30008: 'Delivery failed: unknown error',
  30034: 'Delivery failed: the sender is not registered for US A2P 10DLC',
};

export function twilioErrorMessage(code: number): string | null {
  return MESSAGES[code] ?? null;
}

/**
 * What a tenant may be shown of a failed Twilio call: never text from the answer's body (a
 * base URL pointing elsewhere would have us echo a foreign server's content), never a socket
 * error code (which tells a refused port from a filtered one). Twilio's numeric code and the
 * HTTP status are kept: they are what an admin looks up.
 */
export function publicTwilioErrorText(err: unknown): string {
  if (!(err instanceof TwilioApiError)) return 'The Twilio API call failed';
  if (err.message.startsWith('Twilio API base URL refused')) return err.message;
  switch (err.kind) {
    case 'api':
      return `Twilio answered HTTP ${err.status ?? '?'}${err.code !== null ? ` (error ${err.code})` : ''}`;
    default:
      // One text for no answer, a timeout and a non-Twilio answer: a refused port and an open
      // one must look the same.
      return 'No Twilio API answered as expected';
  }
}
