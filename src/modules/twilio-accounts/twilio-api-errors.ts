import { DomainError, ErrorCode, badInput } from '../../shared/errors.js';
import { TwilioApiError, isAuthErrorCode, publicTwilioErrorText } from '../../twilio/errors.js';

/**
 * What an admin-facing mutation answers when a Twilio API call fails. The messages never carry
 * the SDK's error object (it can hold the request's Basic auth), only our own wording.
 */
export function twilioFailureToAppError(err: unknown, action: string): DomainError {
  if (!(err instanceof TwilioApiError)) {
    return new DomainError(ErrorCode.SERVICE_UNAVAILABLE, `Could not ${action}: the Twilio API call failed unexpectedly`);
  }
  // 404 on our own account's resource means the SID does not belong to these credentials.
  if (err.status === 401 || err.status === 404 || isAuthErrorCode(err.code)) {
    return new DomainError(ErrorCode.TWILIO_AUTH_FAILED, 'Twilio rejected the Account SID and Auth Token pair', {
      twilioCode: err.code,
    });
  }
  // Never the answer's own text nor a socket error code: see publicTwilioErrorText.
  const why = publicTwilioErrorText(err);
  if (err.transient || err.kind !== 'api') {
    return new DomainError(ErrorCode.SERVICE_UNAVAILABLE, `Could not ${action}: ${why}; nothing was changed, try again later`);
  }
  return badInput(`Could not ${action}: ${why}`);
}
