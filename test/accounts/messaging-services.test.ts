import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUpTenant } from '../helpers/factories.js';
import { fakeSid, startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { errorCode, startTestServer, type TestServer } from '../helpers/test-server.js';
import { connectAccount, sendInbound } from '../helpers/twilio-setup.js';
import { waitFor } from '../helpers/wait.js';
import { conversationsOf, randomUsNumber } from '../inbound/fixtures.js';

let server: TestServer;
let fake: FakeTwilio;

beforeAll(async () => {
  [server, fake] = await Promise.all([startTestServer(), startFakeTwilio()]);
});
afterAll(async () => {
  await Promise.all([server?.close(), fake?.close()]);
});

const ADD = `mutation($input: AddPhoneNumberInput!) { addPhoneNumber(input: $input) { id e164 messagingServiceSid webhookWarning } }`;

async function accountWithService(senders: number) {
  const tenant = await signUpTenant(server);
  const creds = fake.addAccount();
  const account = await connectAccount(server, tenant.token, fake.url, creds);
  const numbers = Array.from({ length: senders }, () => randomUsNumber());
  for (const n of numbers) fake.addIncomingNumber(creds.sid, { phoneNumber: n });
  const service = fake.addMessagingService(creds.sid, { senders: numbers });
  return { tenant, creds, account, numbers, serviceSid: service.sid };
}

describe('Messaging Services', () => {
  it('configures the service only once every sender is registered here; before that each number, with a warning', async () => {
    const { tenant, creds, account, numbers, serviceSid } = await accountWithService(2);
    const add = (phoneNumber: string) =>
      server.gql(ADD, { input: { twilioAccountId: account.id, phoneNumber, messagingServiceSid: serviceSid, configureTwilioWebhook: true } }, tenant.token);

    const first = await add(numbers[0]!);
    expect(first.errors).toBeUndefined();
    expect(first.data!.addPhoneNumber.webhookWarning).toContain(numbers[1]);
    expect(first.data!.addPhoneNumber.webhookWarning).toMatch(/not registered here/);
    // The service is untouched (its URL would apply to the unregistered sender too); the number has its own.
    expect(fake.messagingService(serviceSid)).toMatchObject({ inboundRequestUrl: '', useInboundWebhookOnNumber: true });
    expect(fake.numbers(creds.sid).find((n) => n.phoneNumber === numbers[0])!.smsUrl).toBe(account.inboundWebhookUrl);

    const second = await add(numbers[1]!);
    expect(second.errors).toBeUndefined();
    expect(second.data!.addPhoneNumber.webhookWarning).toBeNull();
    expect(fake.messagingService(serviceSid)).toMatchObject({ inboundRequestUrl: account.inboundWebhookUrl, useInboundWebhookOnNumber: false });
  });

  it('refuses a service the account does not have, changing nothing at Twilio or here', async () => {
    const { tenant, creds, account, numbers } = await accountWithService(1);
    const res = await server.gql(
      ADD,
      { input: { twilioAccountId: account.id, phoneNumber: numbers[0], messagingServiceSid: fakeSid('MG'), configureTwilioWebhook: true } },
      tenant.token,
    );
    expect(errorCode(res)).toBe('BAD_USER_INPUT');
    expect(fake.numbers(creds.sid)[0]!.smsUrl).toBe('');
    expect((await server.gql(`{ phoneNumbers { id } }`, {}, tenant.token)).data!.phoneNumbers).toEqual([]);
  });

  it('replies go through the service From the number the customer texted; inbound via the service reaches its conversation', async () => {
    const { tenant, account, numbers, serviceSid } = await accountWithService(2);
    const added = [];
    for (const n of numbers) {
      const res = await server.gql(ADD, { input: { twilioAccountId: account.id, phoneNumber: n, messagingServiceSid: serviceSid } }, tenant.token);
      added.push(res.data!.addPhoneNumber as { id: string; e164: string });
    }
    const customer = randomUsNumber('646');
    // The customer texts the second number of the pool; Twilio adds the service's SID.
    const res = await sendInbound(server, account, { from: customer, to: numbers[1]!, body: 'hi', messagingServiceSid: serviceSid });
    expect(res.status).toBe(200);
    const [conversation] = await conversationsOf(server, tenant.tenantId);
    expect(conversation!.phoneNumberId).toBe(added[1]!.id);

    const reply = await server.gql(
      `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`,
      { input: { conversationId: conversation!.id, body: 'hello from the pool' } },
      tenant.token,
    );
    expect(reply.errors).toBeUndefined();
    const sent = await waitFor(() => fake.messageRequests.find((r) => r.params['Body'] === 'hello from the pool' && r.status === 201), {
      what: 'the reply at Twilio',
    });
    expect(sent.params['MessagingServiceSid']).toBe(serviceSid);
    expect(sent.params['From']).toBe(numbers[1]);
    expect(sent.params['To']).toBe(customer);
  });
});
