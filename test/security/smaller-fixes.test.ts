import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../../src/app.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/shared/logger.js';
import { signUpTenant } from '../helpers/factories.js';
import { fakeSid, startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { customerTexts, randomUsNumber, setUpInbox } from '../helpers/inbox.js';
import { createTestDatabase } from '../helpers/test-db.js';
import { errorCode, startTestServer, type TestServer } from '../helpers/test-server.js';
import { localUrl, sendInbound } from '../helpers/twilio-setup.js';

const PRODUCTION = {
  NODE_ENV: 'production',
  PUBLIC_URL: 'https://sms.example.test',
  JWT_SECRET: 'q'.repeat(40),
  ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'),
};

let fake: FakeTwilio;
beforeAll(async () => {
  fake = await startFakeTwilio();
});
afterAll(async () => fake?.close());

describe('idempotency keys', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server?.close());

  it('reusing a key for different content is a CONFLICT and never returns another conversation’s message', async () => {
    const inbox = await setUpInbox(server, fake);
    const one = await customerTexts(server, inbox, randomUsNumber(), 'first');
    const two = await customerTexts(server, inbox, randomUsNumber(), 'second');
    const SEND = 'mutation($input: SendMessageInput!) { sendMessage(input: $input) { id conversationId body } }';
    const first = await server.gql(SEND, { input: { conversationId: one, body: 'hello', idempotencyKey: 'k-1' } }, inbox.tenant.token);
    expect(first.errors).toBeUndefined();
    const again = await server.gql(SEND, { input: { conversationId: one, body: 'hello', idempotencyKey: 'k-1' } }, inbox.tenant.token);
    expect(again.data!.sendMessage.id).toBe(first.data!.sendMessage.id);
    const otherConversation = await server.gql(SEND, { input: { conversationId: two, body: 'hello', idempotencyKey: 'k-1' } }, inbox.tenant.token);
    expect(errorCode(otherConversation)).toBe('CONFLICT');
    expect(JSON.stringify(otherConversation)).not.toContain(first.data!.sendMessage.id);
    const otherBody = await server.gql(SEND, { input: { conversationId: one, body: 'changed', idempotencyKey: 'k-1' } }, inbox.tenant.token);
    expect(errorCode(otherBody)).toBe('CONFLICT');
  });
});

describe('sign-up rate limit per address', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ SIGNUP_MAX_PER_ADDRESS: '3' });
  });
  afterAll(async () => server?.close());

  it('the fourth sign-up from one address within the window is RATE_LIMITED', async () => {
    for (let i = 0; i < 3; i++) await signUpTenant(server, `Shop ${i}`);
    const res = await server.gql('mutation($input: SignUpInput!) { signUp(input: $input) { token } }', {
      input: { tenantName: 'One more', name: 'X', email: `x-${Date.now()}@example.com`, password: 'long enough pw' },
    });
    expect(errorCode(res)).toBe('RATE_LIMITED');
  });
});

describe('production hardening', () => {
  it('refuses to start without PUBLIC_URL', () => {
    const { PUBLIC_URL: _omit, ...rest } = PRODUCTION;
    expect(() => loadConfig({ ...rest, DATA_DIR: 'memory://' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...rest, DATA_DIR: 'memory://' })).toThrow(/PUBLIC_URL is required/);
  });

  it('introspection is off, /metrics needs METRICS_TOKEN (absent without one), a subscription over HTTP is a 400', async () => {
    const server = await startTestServer({ ...PRODUCTION, METRICS_TOKEN: 'm'.repeat(24) });
    const bare = await startTestServer({ ...PRODUCTION, GRAPHQL_INTROSPECTION: 'true' });
    try {
      const introspect = await server.gql('{ __schema { queryType { name } } }');
      expect(introspect.errors?.[0]?.message).toMatch(/introspection/i);
      expect((await bare.gql('{ __schema { queryType { name } } }')).data).toEqual({ __schema: { queryType: { name: 'Query' } } });

      expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
      expect((await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
      const ok = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${'m'.repeat(24)}` } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('http_requests_total');
      expect((await fetch(`${bare.url}/metrics`)).status).toBe(404);

      const t = await signUpTenant(server);
      const sub = await server.gql('subscription { conversationUpdated { id } }', {}, t.token);
      expect(sub.status).toBe(400);
      expect(sub.errors?.[0]?.message).toMatch(/WebSocket/);
    } finally {
      await Promise.all([server.close(), bare.close()]);
    }
    // Two servers of their own: on PGlite with both suites sharing two cores, starting them once took over 30 s.
  }, 90_000);
});

describe('debug logs', () => {
  it('never contain webhook keys or media-link signatures', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const db = await createTestDatabase();
    const config = loadConfig({
      NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'debug', OUTBOUND_ALLOW_PRIVATE: 'true', SIGNUP_MAX_PER_ADDRESS: '1000', ...db.env,
    });
    const app = await startApp(config, { logger: createLogger('debug', sink) });
    const server = {
      url: app.url,
      graphqlUrl: `${app.url}/graphql`,
      app,
      async gql(query: string, variables?: Record<string, unknown>, token?: string | null) {
        const res = await fetch(`${app.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify({ query, variables }),
        });
        const json = (await res.json()) as { data?: unknown; errors?: unknown };
        return { status: res.status, data: (json.data ?? null) as any, errors: json.errors as any };
      },
    } as unknown as TestServer;
    try {
      const inbox = await setUpInbox(server, fake);
      const key = new URL(inbox.account.inboundWebhookUrl).pathname.split('/')[3]!;
      const sid = fakeSid('MM');
      const mediaUrl = fake.addMedia(inbox.account.accountSid, 'image/png', 'png', { messageSid: sid });
      expect((await sendInbound(server, inbox.account, { from: randomUsNumber(), to: inbox.number.e164, body: 'x', messageSid: sid, media: [{ url: mediaUrl, contentType: 'image/png' }] })).status).toBe(200);
      const rows = await app.deps.db.query.messages.findMany({ where: (m, { eq }) => eq(m.twilioSid, sid) });
      const link = server.app.deps.mediaLinks.sign(server.app.deps.config.publicUrl, { tenantId: inbox.tenant.tenantId, messageId: rows[0]!.id, index: 0 });
      const signature = new URL(link).searchParams.get('signature')!;
      expect((await fetch(localUrl(server, link))).status).toBe(200);
      await new Promise((r) => setTimeout(r, 50));
      const logged = lines.join('');
      expect(logged).toContain('incoming request');
      expect(logged).not.toContain(key);
      expect(logged).not.toContain(signature);
    } finally {
      await app.close();
      await db.drop();
    }
  });
});

describe('inbound From that is not a phone number', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server?.close());

  it('is stored as given and flagged, never presented as E.164', async () => {
    const inbox = await setUpInbox(server, fake);
    for (const from of ['ACMEBANK', randomUsNumber()]) {
      const res = await sendInbound(server, inbox.account, { from, to: inbox.number.e164, body: 'hello' });
      expect(res.status).toBe(200);
    }
    const list = await server.gql('{ conversations(first: 10) { edges { node { contact { phoneNumber phoneNumberIsE164 } } } } }', {}, inbox.tenant.token);
    const contacts = list.data!.conversations.edges.map((e: any) => e.node.contact);
    expect(contacts).toContainEqual({ phoneNumber: 'ACMEBANK', phoneNumberIsE164: false });
    expect(contacts.filter((c: any) => c.phoneNumberIsE164)).toHaveLength(1);
  });
});
