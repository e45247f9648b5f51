import type { TwilioApi, TwilioCredentials } from '../twilio/client.js';

/** Builds the API client of one Twilio account; injectable so the app wiring decides timeouts. */
export type TwilioApiFactory = (creds: TwilioCredentials) => TwilioApi;
