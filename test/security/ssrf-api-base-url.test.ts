import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { twilioAccounts } from '../../src/db/schema.js';
import { signUpTenant } from '../helpers/factories.js';
import { startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { customerTexts, setUpInbox } from '../helpers/inbox.js';
import { errorCode, startTestServer, type TestServer } from '../helpers/test-server.js';
import { ACCOUNT_FIELDS } from '../helpers/twilio-setup.js';
import { waitFor } from '../helpers/wait.js';

const CONNECT = `mutation($input: ConnectTwilioAccountInput!) { connectTwilioAccount(input: $input) { ${ACCOUNT_FIELDS} } }`;

const PRODUCTION = {
  NODE_ENV: 'production',
  PUBLIC_URL: 'https://sms.example.test',
  JWT_SECRET: 'p'.repeat(40),
  ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
  OUTBOUND_ALLOW_PRIVATE: 'false',
};

async function startInternalService(body: string) {
  let connections = 0;
  const server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(body));
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

let fake: FakeTwilio;
let internal: Awaited<ReturnType<typeof startInternalService>>;
beforeAll(async () => {
  [fake, internal] = await Promise.all([startFakeTwilio(), startInternalService('<html>INTERNAL SECRET admin panel</html>')]);
});
afterAll(async () => {
  await Promise.all([fake?.close(), internal?.close()]);
});

describe('apiBaseUrl in production', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(PRODUCTION);
  });
  afterAll(async () => server?.close());

  it('accepts only https to public addresses: loopback, private and plain http are BAD_USER_INPUT, nothing contacted', async () => {
    const tenant = await signUpTenant(server);
    const creds = fake.addAccount();
    const port = internal.port;
    for (const apiBaseUrl of [
      fake.url,
      `https://127.0.0.1:${port}`,
      `https://localhost:${port}`,
      `https://2130706433:${port}`,
      `https://[::1]:${port}`,
      `https://[::ffff:127.0.0.1]:${port}`,
      'https://10.0.0.1',
      'https://169.254.169.254',
      'http://api.twilio.com',
    ]) {
      const res = await server.gql(CONNECT, { input: { accountSid: creds.sid, authToken: creds.authToken, apiBaseUrl } }, tenant.token);
      expect(errorCode(res), apiBaseUrl).toBe('BAD_USER_INPUT');
      expect(res.errors![0]!.extensions!.field).toBe('apiBaseUrl');
    }
    expect(fake.requests).toHaveLength(0);
    expect(internal.connections()).toBe(0);
  });
});

describe('apiBaseUrl allow-list (TWILIO_API_ALLOWED_HOSTS) and the send-time re-check', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ ...PRODUCTION, TWILIO_API_ALLOWED_HOSTS: '127.0.0.1' });
  });
  afterAll(async () => server?.close());

  it('a listed host is accepted; a stored root that no longer passes is never posted to by the dispatcher', async () => {
    const inbox = await setUpInbox(server, fake);
    const conversationId = await customerTexts(server, inbox, '+14155550199', 'hi');
    // A row stored before the check (or edited behind our back) now points inward.
    await server.app.deps.db
      .update(twilioAccounts)
      .set({ apiBaseUrl: `http://localhost:${internal.port}` })
      .where(eq(twilioAccounts.id, inbox.account.id));
    const sent = await server.gql(
      `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`,
      { input: { conversationId, body: 'reply' } },
      inbox.tenant.token,
    );
    expect(sent.errors).toBeUndefined();
    const failed = await waitFor(async () => {
      const res = await server.gql(
        `query($id: ID!) { conversation(id: $id) { messages(first: 5) { edges { node { id status errorMessage } } } } }`,
        { id: conversationId },
        inbox.tenant.token,
      );
      const node = res.data?.conversation.messages.edges.map((e: any) => e.node).find((n: any) => n.id === sent.data!.sendMessage.id);
      return node?.status === 'FAILED' ? node : undefined;
    }, { timeoutMs: 15_000, what: 'the send to refuse the base URL' });
    expect(failed.errorMessage).toMatch(/base URL refused/);
    expect(internal.connections()).toBe(0);
  });
});

describe('connect errors never echo what answered', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server?.close());

  it('a non-Twilio server and a closed port give the same answer, without its body or socket codes', async () => {
    const tenant = await signUpTenant(server);
    const creds = fake.addAccount();
    const closed = await new Promise<number>((resolve) => {
      const s = http.createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const answers: string[] = [];
    for (const apiBaseUrl of [`http://127.0.0.1:${internal.port}`, `http://127.0.0.1:${closed}`]) {
      const res = await server.gql(CONNECT, { input: { accountSid: creds.sid, authToken: creds.authToken, apiBaseUrl } }, tenant.token);
      expect(res.errors).toHaveLength(1);
      const text = JSON.stringify(res.errors);
      expect(text).not.toMatch(/SECRET|<html|ECONN|EHOST|ETIMEDOUT|Unexpected token/i);
      answers.push(`${errorCode(res)}: ${res.errors![0]!.message}`);
    }
    expect(answers[0]).toBe(answers[1]);
  });
});
