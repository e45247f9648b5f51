import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, signUpTenant } from '../helpers/factories.js';
import { fakeSid, startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { randomUsNumber, setUpInbox } from '../helpers/inbox.js';
import { errorCode, startTestServer, type TestServer } from '../helpers/test-server.js';
import { connectAccount, sendInbound } from '../helpers/twilio-setup.js';

let server: TestServer;
let fake: FakeTwilio;
beforeAll(async () => {
  [server, fake] = await Promise.all([startTestServer(), startFakeTwilio()]);
});
afterAll(async () => {
  await Promise.all([server?.close(), fake?.close()]);
});

const ADD = `mutation($input: AddPhoneNumberInput!) { addPhoneNumber(input: $input) { id e164 } }`;
const UNROUTED = `query($first: Int, $after: String) { unroutedMessages(first: $first, after: $after) {
  edges { cursor node { id from to body twilioSid receivedAt twilioAccount { id accountSid } } } pageInfo { hasNextPage endCursor } } }`;

describe('number squatting across tenants', () => {
  it('a tenant cannot register a number of another tenant’s Twilio account; the owner’s signed texts are kept, never dropped', async () => {
    // The owner has the number on its Twilio account but has not registered it yet.
    const owner = await signUpTenant(server, 'Owner Co');
    const ownerCreds = fake.addAccount();
    const ownerAccount = await connectAccount(server, owner.token, fake.url, ownerCreds);
    const e164 = randomUsNumber();
    fake.addIncomingNumber(ownerCreds.sid, { phoneNumber: e164 });

    // The squatter connects its own account and tries to claim the number.
    const squatter = await signUpTenant(server, 'Squatter Co');
    const squatterCreds = fake.addAccount();
    const squatterAccount = await connectAccount(server, squatter.token, fake.url, squatterCreds);
    const claim = await server.gql(ADD, { input: { twilioAccountId: squatterAccount.id, phoneNumber: e164 } }, squatter.token);
    expect(errorCode(claim)).toBe('BAD_USER_INPUT');

    // A signed inbound text to the (still unregistered) number: 200, and kept for the owner's admins.
    const sid = fakeSid('SM');
    for (let i = 0; i < 2; i++) {
      // Twilio retries: stored once.
      const res = await sendInbound(server, ownerAccount, { from: '+14155550123', to: e164, body: 'is anyone there?', messageSid: sid });
      expect(res.status).toBe(200);
    }
    const listed = await server.gql(UNROUTED, { first: 10 }, owner.token);
    expect(listed.errors).toBeUndefined();
    expect(listed.data!.unroutedMessages.edges.map((e: any) => e.node)).toEqual([
      expect.objectContaining({ from: '+14155550123', to: e164, body: 'is anyone there?', twilioSid: sid, twilioAccount: { id: ownerAccount.id, accountSid: ownerCreds.sid } }),
    ]);

    // Nobody else sees it; agents may not list it.
    expect((await server.gql(UNROUTED, {}, squatter.token)).data!.unroutedMessages.edges).toEqual([]);
    const agent = await createAgent(server, owner.token);
    expect(errorCode(await server.gql(UNROUTED, {}, agent.token))).toBe('FORBIDDEN');

    // The owner registers the number: it works now.
    const added = await server.gql(ADD, { input: { twilioAccountId: ownerAccount.id, phoneNumber: e164 } }, owner.token);
    expect(added.errors).toBeUndefined();
  });

  it('unroutedMessages pages newest first with a cursor', async () => {
    const inbox = await setUpInbox(server, fake);
    for (let i = 0; i < 3; i++) {
      const res = await sendInbound(server, inbox.account, { from: randomUsNumber(), to: randomUsNumber(), body: `stray ${i}` });
      expect(res.status).toBe(200);
    }
    const first = await server.gql(UNROUTED, { first: 2 }, inbox.tenant.token);
    expect(first.data!.unroutedMessages.edges.map((e: any) => e.node.body)).toEqual(['stray 2', 'stray 1']);
    expect(first.data!.unroutedMessages.pageInfo.hasNextPage).toBe(true);
    const next = await server.gql(UNROUTED, { first: 2, after: first.data!.unroutedMessages.pageInfo.endCursor }, inbox.tenant.token);
    expect(next.data!.unroutedMessages.edges.map((e: any) => e.node.body)).toEqual(['stray 0']);
    expect(next.data!.unroutedMessages.pageInfo.hasNextPage).toBe(false);
  });
});
