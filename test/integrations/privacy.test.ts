import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents, messages, notes } from '../../src/db/schema.js';
import { runRetention } from '../../src/modules/privacy/retention.js';
import { createAgent } from '../helpers/factories.js';
import { fakeSid, startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { customerTexts, randomUsNumber, setUpInbox, type Inbox } from '../helpers/inbox.js';
import { collect, subscribed } from '../helpers/live.js';
import { errorCode, startTestServer, type TestServer } from '../helpers/test-server.js';
import { sendInbound } from '../helpers/twilio-setup.js';
import { waitFor } from '../helpers/wait.js';

let server: TestServer;
let fake: FakeTwilio;
let a: Inbox;
let b: Inbox;

beforeAll(async () => {
  fake = await startFakeTwilio();
  server = await startTestServer({ RETENTION_BATCH_SIZE: '2' });
  [a, b] = await Promise.all([setUpInbox(server, fake), setUpInbox(server, fake, { tenantName: 'Other Co' })]);
});
afterAll(async () => {
  await server?.close();
  await fake?.close();
});

const UPDATE_TENANT = `mutation($input: UpdateTenantInput!) { updateTenant(input: $input) { id name retentionDays } }`;
const EXPORT = `query($id: ID!) { exportContact(id: $id) }`;
const ERASE = `mutation($id: ID!) { eraseContact(id: $id) }`;

async function contactIdOf(conversationId: string, token = a.tenant.token): Promise<string> {
  const res = await server.gql(`query($id: ID!) { conversation(id: $id) { contact { id } } }`, { id: conversationId }, token);
  return res.data!.conversation.contact.id;
}

async function reply(conversationId: string, body: string, token = a.tenant.token): Promise<string> {
  const res = await server.gql(`mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`, { input: { conversationId, body } }, token);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  const id = res.data!.sendMessage.id as string;
  return waitFor(async () => {
    const [row] = await server.app.deps.db.select().from(messages).where(eq(messages.id, id));
    return row?.twilioSid ?? undefined;
  }, { what: 'the reply sent to Twilio' });
}

describe('updateTenant', () => {
  it('sets and clears retentionDays, validates, is ADMIN only and audited', async () => {
    const set = await server.gql(UPDATE_TENANT, { input: { retentionDays: 30 } }, b.tenant.token);
    expect(set.data!.updateTenant).toMatchObject({ retentionDays: 30, name: 'Other Co' });
    expect((await server.gql(`{ me { tenant { retentionDays } } }`, {}, b.tenant.token)).data!.me.tenant.retentionDays).toBe(30);
    const renamed = await server.gql(UPDATE_TENANT, { input: { name: 'Other Company' } }, b.tenant.token);
    expect(renamed.data!.updateTenant).toMatchObject({ retentionDays: 30, name: 'Other Company' });
    const cleared = await server.gql(UPDATE_TENANT, { input: { retentionDays: null } }, b.tenant.token);
    expect(cleared.data!.updateTenant.retentionDays).toBeNull();
    for (const input of [{ retentionDays: 0 }, { retentionDays: 5000 }, { name: ' ' }]) {
      expect(errorCode(await server.gql(UPDATE_TENANT, { input }, b.tenant.token)), JSON.stringify(input)).toBe('BAD_USER_INPUT');
    }
    const agent = await createAgent(server, b.tenant.token);
    expect(errorCode(await server.gql(UPDATE_TENANT, { input: { retentionDays: 1 } }, agent.token))).toBe('FORBIDDEN');
    const log = await server.gql(`{ auditLog(action: "tenant.update") { edges { node { targetId actor { id } } } } }`, {}, b.tenant.token);
    expect(log.data!.auditLog.edges).toHaveLength(3);
    expect(log.data!.auditLog.edges[0].node).toEqual({ targetId: b.tenant.tenantId, actor: { id: b.tenant.userId } });
  });
});

describe('exportContact and eraseContact', () => {
  it('exports everything stored about a contact as JSON, ADMIN only, audited', async () => {
    const customer = randomUsNumber();
    const conversationId = await customerTexts(server, a, customer, 'Where is my order?');
    await reply(conversationId, 'It ships today');
    const note = await server.gql(`mutation($c: ID!) { addNote(conversationId: $c, body: "VIP customer") { id } }`, { c: conversationId }, a.tenant.token);
    expect(note.errors).toBeUndefined();
    const contactId = await contactIdOf(conversationId);

    const res = await server.gql(EXPORT, { id: contactId }, a.tenant.token);
    const doc = JSON.parse(res.data!.exportContact as string);
    expect(doc.contact).toMatchObject({ id: contactId, phoneNumber: customer, optedOut: false });
    expect(doc.conversations).toHaveLength(1);
    expect(doc.conversations[0]).toMatchObject({ id: conversationId, phoneNumber: a.number.e164 });
    expect(doc.conversations[0].messages.map((m: { body: string; direction: string }) => [m.direction, m.body])).toEqual([
      ['INBOUND', 'Where is my order?'],
      ['OUTBOUND', 'It ships today'],
    ]);
    expect(doc.conversations[0].notes).toEqual([expect.objectContaining({ body: 'VIP customer', authorId: a.tenant.userId })]);
    expect(res.data!.exportContact).not.toContain(a.account.authToken);

    expect(errorCode(await server.gql(EXPORT, { id: contactId }, b.tenant.token))).toBe('NOT_FOUND');
    const agent = await createAgent(server, a.tenant.token);
    expect(errorCode(await server.gql(EXPORT, { id: contactId }, agent.token))).toBe('FORBIDDEN');
    const log = await server.gql(`{ auditLog(action: "contact.export") { edges { node { targetId } } } }`, {}, a.tenant.token);
    expect(log.data!.auditLog.edges.map((e: any) => e.node.targetId)).toEqual([contactId]);
  });

  it('erases bodies, notes and media here and at Twilio, drops the conversations live, keeps the STOP', async () => {
    const customer = randomUsNumber();
    const inboundSid = fakeSid('MM');
    const media = fake.addMedia(a.account.accountSid, 'image/png', 'png bytes', { messageSid: inboundSid });
    const res = await sendInbound(server, a.account, { from: customer, to: a.number.e164, body: 'My secret address', messageSid: inboundSid, media: [{ url: media, contentType: 'image/png' }] });
    expect(res.status).toBe(200);
    const conversationId = await customerTexts(server, a, customer, 'Second text');
    const replySid = await reply(conversationId, 'Noted your address');
    await server.gql(`mutation($c: ID!) { addNote(conversationId: $c, body: "lives at the secret address") { id } }`, { c: conversationId }, a.tenant.token);
    await customerTexts(server, a, customer, 'STOP');
    const contactId = await contactIdOf(conversationId);
    const otherConversation = await customerTexts(server, a, randomUsNumber(), 'Someone else');

    const client = server.ws(a.tenant.token);
    const before = server.app.deps.events.subscriberCount;
    const removed = collect(client, `subscription { conversationRemoved }`);
    await subscribed(server.app.deps.events, before + 1);

    expect(errorCode(await server.gql(ERASE, { id: contactId }, b.tenant.token))).toBe('NOT_FOUND');
    const erased = await server.gql(ERASE, { id: contactId }, a.tenant.token);
    expect(erased.data!.eraseContact).toBe(true);

    await removed.waitForCount(1);
    expect(removed.events).toEqual([conversationId]);
    // Nothing returns the bodies or media any more.
    expect((await server.gql(`query($id: ID!) { conversation(id: $id) { id } }`, { id: conversationId }, a.tenant.token)).data!.conversation).toBeNull();
    const list = await server.gql(`{ conversations(first: 100) { edges { node { id lastMessage { body } } } } }`, {}, a.tenant.token);
    const ids = list.data!.conversations.edges.map((e: any) => e.node.id);
    expect(ids).not.toContain(conversationId);
    expect(ids).toContain(otherConversation);
    expect(JSON.stringify(list.data)).not.toMatch(/secret address|Noted your address/);
    const stored = await server.app.deps.db.select().from(messages).where(eq(messages.conversationId, conversationId));
    expect(stored).toEqual([]);
    expect(await server.app.deps.db.select().from(notes).where(eq(notes.conversationId, conversationId))).toEqual([]);
    const doc = JSON.parse((await server.gql(EXPORT, { id: contactId }, a.tenant.token)).data!.exportContact);
    expect(doc.conversations).toEqual([]);
    expect(doc.contact).toMatchObject({ phoneNumber: customer, optedOut: true });

    // Twilio was asked to delete every message it knows (with its media).
    await waitFor(() => [inboundSid, replySid].every((sid) => fake.deletedMessageSids.includes(sid)), { what: 'the DELETE calls at Twilio' });
    expect(fake.requests.some((r) => r.method === 'DELETE' && r.path.endsWith(`/Messages/${inboundSid}.json`))).toBe(true);

    // The STOP still blocks sends to that number.
    const start = await server.gql(
      `mutation($input: StartConversationInput!) { startConversation(input: $input) { id } }`,
      { input: { phoneNumberId: a.number.id, to: customer, body: 'Hello again' } },
      a.tenant.token,
    );
    expect(errorCode(start)).toBe('CONTACT_OPTED_OUT');

    const log = await server.gql(`{ auditLog(action: "contact.erase") { edges { node { targetType targetId actor { id } } } } }`, {}, a.tenant.token);
    expect(log.data!.auditLog.edges[0].node).toEqual({ targetType: 'contact', targetId: contactId, actor: { id: a.tenant.userId } });
  });
});

describe('retention', () => {
  it('deletes messages older than retentionDays in batches, asks Twilio to delete them, keeps the audit trail', async () => {
    const inbox = await setUpInbox(server, fake, { tenantName: 'Retention Co' });
    const old = randomUsNumber();
    const conversationId = await customerTexts(server, inbox, old, 'old 1');
    for (const body of ['old 2', 'old 3', 'old 4', 'old 5']) await customerTexts(server, inbox, old, body);
    const db = server.app.deps.db;
    await db.execute(sql`update messages set created_at = now() - interval '10 days' where tenant_id = ${inbox.tenant.tenantId}::uuid`);
    await customerTexts(server, inbox, old, 'fresh');
    const oldSids = (await db.select().from(messages).where(and(eq(messages.tenantId, inbox.tenant.tenantId), sql`${messages.body} like 'old%'`))).map((m) => m.twilioSid!);
    expect(oldSids).toHaveLength(5);
    const auditBefore = await db.select().from(auditEvents).where(eq(auditEvents.tenantId, inbox.tenant.tenantId));

    // Without retentionDays nothing goes.
    const untouched = await runRetention(server.app.deps);
    expect((await db.select().from(messages).where(eq(messages.tenantId, inbox.tenant.tenantId))).length).toBe(6);
    expect(untouched.messagesDeleted).toBe(0);

    await server.gql(UPDATE_TENANT, { input: { retentionDays: 7 } }, inbox.tenant.token);
    const result = await runRetention(server.app.deps);
    expect(result.messagesDeleted).toBe(5); // in batches of RETENTION_BATCH_SIZE=2
    const left = await db.select().from(messages).where(eq(messages.tenantId, inbox.tenant.tenantId));
    expect(left.map((m) => m.body)).toEqual(['fresh']);
    // The injectable clock: eight days later the fresh one is old too.
    const later = await runRetention(server.app.deps, { now: new Date(Date.now() + 8 * 86_400_000) });
    expect(later.messagesDeleted).toBe(1);

    await waitFor(() => oldSids.every((sid) => fake.deletedMessageSids.includes(sid)), { what: 'Twilio deletions of the old messages' });
    const auditAfter = await db.select().from(auditEvents).where(eq(auditEvents.tenantId, inbox.tenant.tenantId));
    expect(auditAfter.length).toBe(auditBefore.length + 1); // + tenant.update, none removed
    // Other tenants' messages are untouched.
    expect((await db.select().from(messages).where(eq(messages.tenantId, a.tenant.tenantId))).length).toBeGreaterThan(0);
    expect((await server.gql(`query($id: ID!) { conversation(id: $id) { id } }`, { id: conversationId }, inbox.tenant.token)).data!.conversation).not.toBeNull();
  });
});
