import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quickReplies } from '../../src/db/schema.js';
import { createAgent } from '../helpers/factories.js';
import { startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { customerTexts, randomUsNumber, setUpInbox, type Inbox } from '../helpers/inbox.js';
import { errorCode, startTestServer, type TestServer } from '../helpers/test-server.js';

let server: TestServer;
let fake: FakeTwilio;
let a: Inbox;
let b: Inbox;
let agent: { id: string; token: string };

beforeAll(async () => {
  [server, fake] = await Promise.all([startTestServer({ DISPATCHER_ENABLED: 'false' }), startFakeTwilio()]);
  [a, b] = await Promise.all([setUpInbox(server, fake, { tenantName: 'Acme Dental' }), setUpInbox(server, fake, { tenantName: 'Other Clinic' })]);
  agent = await createAgent(server, a.tenant.token);
});
afterAll(async () => {
  await Promise.all([server?.close(), fake?.close()]);
});

const FIELDS = 'id title body createdAt';
const CREATE = `mutation($input: CreateQuickReplyInput!) { createQuickReply(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateQuickReplyInput!) { updateQuickReply(id: $id, input: $input) { ${FIELDS} } }`;
const DELETE = `mutation($id: ID!) { deleteQuickReply(id: $id) }`;
const LIST = `query($search: String) { quickReplies(search: $search) { ${FIELDS} } }`;
const RENDER = `query($id: ID!, $c: ID!) { renderQuickReply(id: $id, conversationId: $c) }`;

async function create(token: string, title: string, body: string) {
  return server.gql(CREATE, { input: { title, body } }, token);
}

async function countFor(tenantId: string): Promise<number> {
  const [row] = await server.app.deps.db.select({ n: sql<number>`count(*)::int` }).from(quickReplies).where(eq(quickReplies.tenantId, tenantId));
  return row!.n;
}

describe('quick replies', () => {
  it('ADMIN creates, updates (partially) and deletes; everyone reads; an AGENT may not manage', async () => {
    const created = await create(a.tenant.token, '  Greeting ', 'Hi {{contact.name}}, {{agent.name}} from {{tenant.name}} here.');
    expect(created.errors).toBeUndefined();
    const id = created.data!.createQuickReply.id;
    expect(created.data!.createQuickReply).toMatchObject({ title: 'Greeting' });

    expect(errorCode(await create(agent.token, 'Agent made', 'nope'))).toBe('FORBIDDEN');
    expect(errorCode(await server.gql(UPDATE, { id, input: { title: 'x' } }, agent.token))).toBe('FORBIDDEN');
    expect(errorCode(await server.gql(DELETE, { id }, agent.token))).toBe('FORBIDDEN');

    const titleOnly = await server.gql(UPDATE, { id, input: { title: 'Hello' } }, a.tenant.token);
    expect(titleOnly.data!.updateQuickReply).toMatchObject({ title: 'Hello', body: 'Hi {{contact.name}}, {{agent.name}} from {{tenant.name}} here.' });
    const bodyOnly = await server.gql(UPDATE, { id, input: { body: 'Hello {{ contact.name }}!' } }, a.tenant.token);
    expect(bodyOnly.data!.updateQuickReply).toMatchObject({ title: 'Hello', body: 'Hello {{ contact.name }}!' });

    const read = await server.gql(LIST, {}, agent.token);
    expect(read.data!.quickReplies.map((q: { id: string }) => q.id)).toEqual([id]);
    expect((await server.gql(LIST, {}, b.tenant.token)).data!.quickReplies).toEqual([]);

    expect((await server.gql(DELETE, { id }, a.tenant.token)).data!.deleteQuickReply).toBe(true);
    expect(errorCode(await server.gql(DELETE, { id }, a.tenant.token))).toBe('NOT_FOUND');
    expect(await countFor(a.tenant.tenantId)).toBe(0);
  });

  it('refuses bad input and stores nothing: titles unique per tenant (CONFLICT), body 1–1,600, known placeholders only', async () => {
    const tenant = await setUpInbox(server, fake, { tenantName: 'Validation Co' });
    const token = tenant.tenant.token;
    const ok = await create(token, 'Hours', 'We open at 9.');
    expect(ok.errors).toBeUndefined();
    expect(errorCode(await create(token, 'HOURS', 'again'))).toBe('CONFLICT');
    expect(errorCode(await create(token, '  ', 'body'))).toBe('BAD_USER_INPUT');
    expect(errorCode(await create(token, 't'.repeat(101), 'body'))).toBe('BAD_USER_INPUT');
    expect(errorCode(await create(token, 'Empty', '   '))).toBe('BAD_USER_INPUT');
    expect(errorCode(await create(token, 'Long', 'b'.repeat(1601)))).toBe('BAD_USER_INPUT');
    const typo = await create(token, 'Typo', 'Hi {{contact.nmae}}');
    expect(errorCode(typo)).toBe('BAD_USER_INPUT');
    expect(typo.errors![0]!.message).toContain('{{contact.nmae}}');
    expect(errorCode(await create(token, 'Unknown', 'Your code is {{code}}'))).toBe('BAD_USER_INPUT');
    expect(errorCode(await create(token, 'Nul\u0000', 'body'))).toBe('BAD_USER_INPUT');
    expect(errorCode(await create(token, 'Nul body', 'a\u0000b'))).toBe('BAD_USER_INPUT');
    expect((await create(token, 'Longest', 'b'.repeat(1600))).errors).toBeUndefined();
    // The same title in another tenant is fine.
    expect((await create(b.tenant.token, 'Hours', 'Ours differ.')).errors).toBeUndefined();

    const id = ok.data!.createQuickReply.id;
    expect(errorCode(await server.gql(UPDATE, { id, input: { title: 'longest' } }, token))).toBe('CONFLICT');
    expect(errorCode(await server.gql(UPDATE, { id, input: { body: '{{agent.email}}' } }, token))).toBe('BAD_USER_INPUT');
    expect(errorCode(await server.gql(UPDATE, { id, input: { title: null } }, token))).toBe('BAD_USER_INPUT');
    expect(errorCode(await server.gql(UPDATE, { id, input: { title: 'Stolen' } }, b.tenant.token))).toBe('NOT_FOUND');
    const rows = await server.app.deps.db.select().from(quickReplies).where(eq(quickReplies.tenantId, tenant.tenant.tenantId));
    expect(rows.map((r) => [r.title, r.body.length]).sort()).toEqual([
      ['Hours', 'We open at 9.'.length],
      ['Longest', 1600],
    ]);
  });

  it('at most 1,000 per tenant', async () => {
    const tenant = await setUpInbox(server, fake, { tenantName: 'Full Co' });
    await server.app.deps.db.execute(sql`insert into quick_replies (tenant_id, title, title_key, body)
      select ${tenant.tenant.tenantId}::uuid, 'Reply ' || i, 'reply ' || i, 'Body ' || i from generate_series(1, 999) as i`);
    expect((await create(tenant.tenant.token, 'The thousandth', 'ok')).errors).toBeUndefined();
    expect(errorCode(await create(tenant.tenant.token, 'One too many', 'no'))).toBe('BAD_USER_INPUT');
    expect(await countFor(tenant.tenant.tenantId)).toBe(1000);
  });

  it('search matches title or body, case- and accent-insensitively, by title', async () => {
    const tenant = await setUpInbox(server, fake, { tenantName: 'Search Co' });
    const token = tenant.tenant.token;
    await create(token, 'Crème brûlée', 'Dessert of the day');
    await create(token, 'Billing', 'Your invoice is attached, merci.');
    await create(token, 'address', 'We are at 1 Main St.');
    const titles = async (search: string | null) => (await server.gql(LIST, { search }, token)).data!.quickReplies.map((q: { title: string }) => q.title);
    expect(await titles(null)).toEqual(['address', 'Billing', 'Crème brûlée']);
    expect(await titles('CREME')).toEqual(['Crème brûlée']);
    expect(await titles('invoice')).toEqual(['Billing']);
    expect(await titles('main st')).toEqual(['address']);
    expect(await titles('nothing')).toEqual([]);
    expect(errorCode(await server.gql(LIST, { search: 'x' }, token))).toBe('BAD_USER_INPUT');
  });

  it('renderQuickReply fills contact, agent and tenant; an unnamed contact leaves no double space', async () => {
    const id = (await create(a.tenant.token, 'Welcome', 'Hi {{contact.name}}, this is {{agent.name}} from {{tenant.name}}.')).data!.createQuickReply.id;
    const phone = randomUsNumber();
    const conversationId = await customerTexts(server, a, phone, 'hello');
    expect((await server.gql(RENDER, { id, c: conversationId }, agent.token)).data!.renderQuickReply).toBe('Hi, this is Andy Agent from Acme Dental.');
    const contactId = (await server.gql(`query($c: ID!) { conversation(id: $c) { contact { id } } }`, { c: conversationId }, a.tenant.token)).data!.conversation.contact.id;
    await server.gql(`mutation($id: ID!) { updateContact(id: $id, input: { name: "Zoë" }) { id } }`, { id: contactId }, a.tenant.token);
    expect((await server.gql(RENDER, { id, c: conversationId }, a.tenant.token)).data!.renderQuickReply).toBe('Hi Zoë, this is Ada Admin from Acme Dental.');

    // Another tenant's reply or conversation: NOT_FOUND.
    const theirs = (await create(b.tenant.token, 'Theirs', 'Hello')).data!.createQuickReply.id;
    expect(errorCode(await server.gql(RENDER, { id: theirs, c: conversationId }, a.tenant.token))).toBe('NOT_FOUND');
    expect(errorCode(await server.gql(RENDER, { id, c: conversationId }, b.tenant.token))).toBe('NOT_FOUND');
    expect(errorCode(await server.gql(RENDER, { id, c: 'nope' }, a.tenant.token))).toBe('NOT_FOUND');
  });
});
