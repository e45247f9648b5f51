import { afterAll, describe, expect, it } from 'vitest';
import { sharedEnv, startChildServer, type ChildServer } from '../helpers/child-server.js';
import { inboundSmsParams, startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { createTestDatabase, usingPostgres } from '../helpers/test-db.js';
import { ACCOUNT_FIELDS } from '../helpers/twilio-setup.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Two server processes on one Postgres database (live events between them over LISTEN/NOTIFY):
 * a token rotation or a disconnect on one reaches the other's account cache at once, not after
 * its 30 s lifetime. (PGlite is one process per database: nothing to show there.)
 */
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** Well under the cache's 30 s lifetime: only the event can explain a change seen this fast. */
const AT_ONCE_MS = 10_000;

describe.skipIf(!usingPostgres)('an account changed on one instance', () => {
  it('is refused (rotation: new token accepted; disconnect: 404, sends refused) on the other at once', async () => {
    const fake: FakeTwilio = await startFakeTwilio();
    cleanups.push(() => fake.close());
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const env = sharedEnv(database.env.DATABASE_URL!);
    const [a, b]: ChildServer[] = await Promise.all([startChildServer(env, 90_000), startChildServer(env, 90_000)]);
    cleanups.push(() => a.stop(), () => b.stop());

    const signUp = await a.gql(
      `mutation($input: SignUpInput!) { signUp(input: $input) { token } }`,
      { input: { tenantName: 'Two Instances Co', name: 'Ada', email: `ada-${Date.now()}@example.com`, password: 'correct horse battery' } },
    );
    const token = signUp.data!.signUp.token as string;
    const creds = fake.addAccount();
    const connected = await a.gql(
      `mutation($input: ConnectTwilioAccountInput!) { connectTwilioAccount(input: $input) { ${ACCOUNT_FIELDS} } }`,
      { input: { accountSid: creds.sid, authToken: creds.authToken, apiBaseUrl: fake.url } },
      token,
    );
    const account = connected.data!.connectTwilioAccount as { id: string; inboundWebhookUrl: string; statusCallbackUrl: string };
    fake.addIncomingNumber(creds.sid, { phoneNumber: '+14155550142' });
    const added = await a.gql(
      `mutation($input: AddPhoneNumberInput!) { addPhoneNumber(input: $input) { id } }`,
      { input: { twilioAccountId: account.id, phoneNumber: '+14155550142' } },
      token,
    );
    expect(added.errors).toBeUndefined();

    let n = 0;
    const inbound = (server: ChildServer, authToken: string) =>
      server.postSigned(account.inboundWebhookUrl, authToken, inboundSmsParams({ accountSid: creds.sid, from: '+14155550199', to: '+14155550142', body: `hello ${++n}` }));

    // B has the account in its cache (old token only).
    expect((await inbound(b, creds.authToken)).status).toBe(200);

    // Rotation on A: B accepts the new token at once (its cached copy knew only the old one).
    const newToken = fake.createSecondaryToken(creds.sid);
    expect((await inbound(b, newToken)).status).toBe(403);
    const rotatedAt = Date.now();
    const rotated = await a.gql(
      `mutation($id: ID!, $input: UpdateTwilioAccountInput!) { updateTwilioAccount(id: $id, input: $input) { id } }`,
      { id: account.id, input: { authToken: newToken } },
      token,
    );
    expect(rotated.errors).toBeUndefined();
    await waitFor(async () => (await inbound(b, newToken)).status === 200, { timeoutMs: AT_ONCE_MS, intervalMs: 50, what: 'B accepting the new token' });
    const rotationSeenMs = Date.now() - rotatedAt;

    // A conversation to reply in, from B.
    const conversations = await b.gql(`{ conversations(first: 1) { edges { node { id } } } }`, {}, token);
    const conversationId = conversations.data!.conversations.edges[0].node.id as string;

    // Disconnect on A: B answers 404 on both URLs at once, and refuses a reply.
    const disconnectedAt = Date.now();
    expect((await a.gql(`mutation($id: ID!) { disconnectTwilioAccount(id: $id) }`, { id: account.id }, token)).errors).toBeUndefined();
    await waitFor(async () => (await inbound(b, newToken)).status === 404, { timeoutMs: AT_ONCE_MS, intervalMs: 50, what: 'B answering 404' });
    const disconnectSeenMs = Date.now() - disconnectedAt;
    const status = await b.postSigned(account.statusCallbackUrl, newToken, { AccountSid: creds.sid, MessageSid: 'SM' + '0'.repeat(32), MessageStatus: 'delivered' });
    expect(status.status).toBe(404);
    const reply = await b.gql(`mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`, { input: { conversationId, body: 'still there?' } }, token);
    expect(reply.errors?.[0]).toBeDefined();
    // History stays readable on B.
    const history = await b.gql(`query($id: ID!) { conversation(id: $id) { id } }`, { id: conversationId }, token);
    expect(history.data!.conversation).toEqual({ id: conversationId });

    console.info(`account changes seen by the other instance after: rotation ${rotationSeenMs} ms, disconnect ${disconnectSeenMs} ms`);
  }, 240_000);
});
