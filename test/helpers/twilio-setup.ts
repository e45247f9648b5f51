import type { TestServer } from './test-server.js';

/**
 * Test set-up through the public API (contract mutations): a Twilio account connected against
 * the fake Twilio, and numbers registered on it.
 */
export const ACCOUNT_FIELDS =
  'id accountSid friendlyName apiBaseUrl inboundWebhookUrl statusCallbackUrl mediaEnabled acceptedMediaTypes createdAt';
export const NUMBER_FIELDS = 'id e164 type direction description messagingServiceSid createdAt';

export interface ConnectedAccount {
  id: string;
  accountSid: string;
  authToken: string;
  inboundWebhookUrl: string;
  statusCallbackUrl: string;
}

export async function connectAccount(
  server: TestServer,
  adminToken: string,
  fakeTwilioUrl: string,
  creds: { sid: string; authToken: string },
  extra: { mediaEnabled?: boolean; acceptedMediaTypes?: string[]; friendlyName?: string } = {},
): Promise<ConnectedAccount> {
  const res = await server.gql(
    `mutation($input: ConnectTwilioAccountInput!) { connectTwilioAccount(input: $input) { ${ACCOUNT_FIELDS} } }`,
    { input: { accountSid: creds.sid, authToken: creds.authToken, apiBaseUrl: fakeTwilioUrl, ...extra } },
    adminToken,
  );
  if (res.errors) throw new Error(`connectTwilioAccount failed: ${JSON.stringify(res.errors)}`);
  const account = res.data!.connectTwilioAccount as { id: string; accountSid: string; inboundWebhookUrl: string; statusCallbackUrl: string };
  return { ...account, authToken: creds.authToken };
}

export async function addNumber(
  server: TestServer,
  adminToken: string,
  twilioAccountId: string,
  phoneNumber: string,
  extra: Record<string, unknown> = {},
): Promise<{ id: string; e164: string }> {
  const res = await server.gql(
    `mutation($input: AddPhoneNumberInput!) { addPhoneNumber(input: $input) { ${NUMBER_FIELDS} } }`,
    { input: { twilioAccountId, phoneNumber, ...extra } },
    adminToken,
  );
  if (res.errors) throw new Error(`addPhoneNumber failed: ${JSON.stringify(res.errors)}`);
  return res.data!.addPhoneNumber as { id: string; e164: string };
}
