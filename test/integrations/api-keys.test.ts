import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeys, mediaFiles } from '../../src/db/schema.js';
import { hashSecret } from '../../src/modules/api-keys/api-key-secret.js';
import { createAgent } from '../helpers/factories.js';
import { startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { customerTexts, randomUsNumber, setUpInbox, type Inbox } from '../helpers/inbox.js';
import { collect, subscribed } from '../helpers/live.js';
import { onServer, pngBytes, upload } from '../helpers/media.js';
import { errorCode, startTestServer, type TestServer } from '../helpers/test-server.js';
import { usingPostgres } from '../helpers/test-db.js';
import { waitFor } from '../helpers/wait.js';

let server: TestServer;
let fake: FakeTwilio;
let a: Inbox;
let b: Inbox;

beforeAll(async () => {
  fake = await startFakeTwilio();
  server = await startTestServer();
  [a, b] = await Promise.all([setUpInbox(server, fake), setUpInbox(server, fake, { tenantName: 'Other Co' })]);
});
afterAll(async () => {
  await server?.close();
  await fake?.close();
});

const CREATE = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id name role prefix createdAt lastUsedAt revokedAt } } }`;
const REVOKE = `mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }`;

async function createKey(token: string, role: 'ADMIN' | 'AGENT', name = 'Integration') {
  const res = await server.gql(CREATE, { input: { name, role } }, token);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data!.createApiKey as { secret: string; apiKey: { id: string; name: string; role: string; prefix: string; lastUsedAt: string | null } };
}

describe('API keys', () => {
  it('shows the secret once, stores only its hash, and lists keys by prefix', async () => {
    const created = await createKey(a.tenant.token, 'AGENT', 'CRM sync');
    expect(created.secret).toMatch(/^sk_live_[A-Za-z0-9_-]{43}$/);
    expect(created.apiKey.prefix).toBe(created.secret.slice(0, 12));
    expect(created.apiKey).toMatchObject({ name: 'CRM sync', role: 'AGENT', lastUsedAt: null });

    const [row] = await server.app.deps.db.select().from(apiKeys).where(eq(apiKeys.id, created.apiKey.id));
    expect(row!.secretHash).toBe(hashSecret(created.secret));
    expect(JSON.stringify(row)).not.toContain(created.secret);

    const listed = await server.gql(`{ apiKeys { id name prefix } }`, {}, a.tenant.token);
    expect(JSON.stringify(listed.data)).not.toContain(created.secret);
    expect(listed.data!.apiKeys).toContainEqual({ id: created.apiKey.id, name: 'CRM sync', prefix: created.apiKey.prefix });
    // Another tenant sees none of them.
    const other = await server.gql(`{ apiKeys { id } }`, {}, b.tenant.token);
    expect(other.data!.apiKeys).toEqual([]);
  });

  it('refuses bad input and non-admins, and keys cannot create keys', async () => {
    expect(errorCode(await server.gql(CREATE, { input: { name: '  ', role: 'AGENT' } }, a.tenant.token))).toBe('BAD_USER_INPUT');
    const agent = await createAgent(server, a.tenant.token);
    expect(errorCode(await server.gql(CREATE, { input: { name: 'x', role: 'AGENT' } }, agent.token))).toBe('FORBIDDEN');
    const adminKey = await createKey(a.tenant.token, 'ADMIN');
    expect(errorCode(await server.gql(CREATE, { input: { name: 'x', role: 'ADMIN' } }, adminKey.secret))).toBe('FORBIDDEN');
    expect(errorCode(await server.gql(CREATE, { input: { name: 'x', role: 'ADMIN' } }, 'sk_live_madeup'))).toBe('UNAUTHENTICATED');
  });

  it('reads and replies over HTTP with its role in its tenant; me describes the key', async () => {
    const key = await createKey(a.tenant.token, 'AGENT', 'Helpdesk bot');
    const conversationId = await customerTexts(server, a, randomUsNumber(), 'Hello there');

    const me = await server.gql(`{ me { id name email role tenant { id } } }`, {}, key.secret);
    expect(me.data!.me).toEqual({ id: key.apiKey.id, name: 'Helpdesk bot', email: '', role: 'AGENT', tenant: { id: a.tenant.tenantId } });

    const list = await server.gql(`{ conversations(first: 10) { edges { node { id } } } }`, {}, key.secret);
    expect(list.data!.conversations.edges.map((e: { node: { id: string } }) => e.node.id)).toContain(conversationId);

    const sent = await server.gql(
      `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id body author { id } } }`,
      { input: { conversationId, body: 'Answer from the bot' } },
      key.secret,
    );
    expect(sent.errors).toBeUndefined();
    expect(sent.data!.sendMessage).toMatchObject({ body: 'Answer from the bot', author: null });
    await waitFor(() => fake.messageRequests.some((m) => m.params.Body === 'Answer from the bot' && m.sid), { what: 'the reply at Twilio' });

    // An AGENT key cannot reach ADMIN operations; another tenant's conversation is absent.
    expect(errorCode(await server.gql(`{ apiKeys { id } }`, {}, key.secret))).toBe('FORBIDDEN');
    expect(
      errorCode(
        await server.gql(
          `mutation($input: CreateAgentInput!) { createAgent(input: $input) { id } }`,
          { input: { email: 'x@example.com', name: 'X', password: 'long enough pw', role: 'ADMIN' } },
          key.secret,
        ),
      ),
    ).toBe('FORBIDDEN');
    // The thread, conversation and messages read together: a key has no user id, and sees a team-less conversation.
    const THREAD = `query($id: ID!) { conversation(id: $id) { id messages(first: 5) { edges { node { body direction } } } } }`;
    const thread = await server.gql(THREAD, { id: conversationId }, key.secret);
    expect(thread.errors).toBeUndefined();
    expect(thread.data!.conversation).toEqual({
      id: conversationId,
      messages: { edges: [{ node: { body: 'Answer from the bot', direction: 'OUTBOUND' } }, { node: { body: 'Hello there', direction: 'INBOUND' } }] },
    });
    const foreign = await customerTexts(server, b, randomUsNumber(), 'Other tenant');
    expect((await server.gql(`query($id: ID!) { conversation(id: $id) { id } }`, { id: foreign }, key.secret)).data!.conversation).toBeNull();
    expect((await server.gql(THREAD, { id: foreign }, key.secret)).data!.conversation).toBeNull();
  });

  it('uploads an attachment with POST /media and sends it; a revoked key is refused there too', async () => {
    const key = await createKey(a.tenant.token, 'AGENT', 'Attachment bot');
    const conversationId = await customerTexts(server, a, randomUsNumber(), 'Send me the form please');
    const bytes = pngBytes(1024, 3);
    const uploaded = await upload(server, key.secret, bytes, 'form.png');
    expect(uploaded.status).toBe(201);
    expect(uploaded.body).toEqual({ id: expect.any(String), contentType: 'image/png', size: 1024 });
    const [row] = await server.app.deps.db.select().from(mediaFiles).where(eq(mediaFiles.id, uploaded.body.id!));
    // In the key's tenant; no person created it.
    expect(row).toMatchObject({ tenantId: a.tenant.tenantId, origin: 'UPLOAD', createdBy: null });

    const sent = await server.gql(
      `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id media { contentType } } }`,
      { input: { conversationId, body: 'The form, attached', mediaIds: [uploaded.body.id] } },
      key.secret,
    );
    expect(sent.errors).toBeUndefined();
    expect(sent.data!.sendMessage.media).toEqual([{ contentType: 'image/png' }]);
    const request = await waitFor(() => fake.messageRequests.find((m) => m.params.Body === 'The form, attached' && m.status === 201), {
      what: 'the MMS at Twilio',
    });
    const mediaUrl = ([] as string[]).concat(request.params['MediaUrl'] ?? [])[0]!;
    const fetched = await fetch(onServer(server, mediaUrl));
    expect(fetched.status).toBe(200);
    expect(Buffer.compare(Buffer.from(await fetched.arrayBuffer()), bytes)).toBe(0);

    // Another tenant's key cannot use the file; a made-up or revoked key cannot upload.
    const foreignKey = await createKey(b.tenant.token, 'ADMIN');
    const foreignConversation = await customerTexts(server, b, randomUsNumber(), 'Other tenant wants it');
    expect(
      errorCode(
        await server.gql(
          `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`,
          { input: { conversationId: foreignConversation, body: 'x', mediaIds: [uploaded.body.id] } },
          foreignKey.secret,
        ),
      ),
    ).toBe('BAD_USER_INPUT');
    expect((await upload(server, 'sk_live_madeup', pngBytes())).status).toBe(401);
    expect((await server.gql(REVOKE, { id: key.apiKey.id }, a.tenant.token)).errors).toBeUndefined();
    expect((await upload(server, key.secret, pngBytes())).status).toBe(401);
  });

  it('records lastUsedAt at most once a minute', async () => {
    const key = await createKey(a.tenant.token, 'AGENT');
    await server.gql(`{ me { id } }`, {}, key.secret);
    const first = await waitFor(async () => {
      const [row] = await server.app.deps.db.select().from(apiKeys).where(eq(apiKeys.id, key.apiKey.id));
      return row!.lastUsedAt ?? undefined;
    }, { what: 'lastUsedAt' });
    for (let i = 0; i < 3; i++) await server.gql(`{ me { id } }`, {}, key.secret);
    const [row] = await server.app.deps.db.select().from(apiKeys).where(eq(apiKeys.id, key.apiKey.id));
    expect(row!.lastUsedAt!.getTime()).toBe(first.getTime());
  });

  it('subscribes over WebSocket; revoked → UNAUTHENTICATED at once and the socket closed with 4403', async () => {
    const key = await createKey(a.tenant.token, 'AGENT');
    let closeCode: number | null = null;
    const client = server.ws(key.secret, { on: { closed: (event) => void (closeCode = (event as { code: number }).code) }, onNonLazyError: () => {} });
    const before = server.app.deps.events.subscriberCount;
    const added = collect(client, `subscription { messageAdded { id body } }`);
    await subscribed(server.app.deps.events, before + 1);
    await customerTexts(server, a, randomUsNumber(), 'Live to the key');
    await added.waitForCount(1);
    expect(added.events[0]!.body).toBe('Live to the key');

    // Another tenant's admin cannot revoke it (absent), its own admin can.
    expect(errorCode(await server.gql(REVOKE, { id: key.apiKey.id }, b.tenant.token))).toBe('NOT_FOUND');
    const revoked = await server.gql(REVOKE, { id: key.apiKey.id }, a.tenant.token);
    expect(revoked.data!.revokeApiKey.revokedAt).toBeTruthy();

    expect(errorCode(await server.gql(`{ me { id } }`, {}, key.secret))).toBe('UNAUTHENTICATED');
    await waitFor(() => closeCode ?? undefined, { what: 'the socket closed' });
    expect(closeCode).toBe(4403);
    // A new socket with the revoked key is refused too.
    let refused: number | null = null;
    server.ws(key.secret, { on: { closed: (event) => void (refused = (event as { code: number }).code) }, onNonLazyError: () => {} });
    await waitFor(() => refused ?? undefined, { what: 'the refused socket' });
    expect(refused).toBe(4403);
  });

  it.runIf(usingPostgres)('revoking on one instance closes the key\'s socket on another (Postgres, two servers)', async () => {
    const second = await startTestServer({}, server.database);
    try {
      const key = await createKey(a.tenant.token, 'AGENT');
      let closeCode: number | null = null;
      const client = second.ws(key.secret, { on: { closed: (event) => void (closeCode = (event as { code: number }).code) }, onNonLazyError: () => {} });
      const before = second.app.deps.events.subscriberCount;
      collect(client, `subscription { conversationUpdated { id } }`);
      await subscribed(second.app.deps.events, before + 1);
      expect((await server.gql(REVOKE, { id: key.apiKey.id }, a.tenant.token)).errors).toBeUndefined();
      await waitFor(() => closeCode ?? undefined, { what: 'the socket on the other instance closed' });
      expect(closeCode).toBe(4403);
      expect(errorCode(await second.gql(`{ me { id } }`, {}, key.secret))).toBe('UNAUTHENTICATED');
    } finally {
      await second.close({ dropDatabase: false });
    }
  });

  it('issues sk_sandbox_ keys in sandbox mode', async () => {
    const sandbox = await startTestServer({ SANDBOX: 'true' });
    try {
      const t = await (await import('../helpers/factories.js')).signUpTenant(sandbox);
      const res = await sandbox.gql(CREATE, { input: { name: 'Demo', role: 'ADMIN' } }, t.token);
      const secret = res.data!.createApiKey.secret as string;
      expect(secret).toMatch(/^sk_sandbox_/);
      expect((await sandbox.gql(`{ me { role } }`, {}, secret)).data!.me.role).toBe('ADMIN');
    } finally {
      await sandbox.close();
    }
  });
});
