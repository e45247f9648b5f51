/**
 * Group commit of agents' replies (src/modules/messages/reply-batcher.ts) through the real
 * server: concurrent sendMessage calls are written by one statement, and each still gets exactly
 * what it would have got alone. The server gathers for up to a second (REPLY_BATCH_WAIT_MS=1000),
 * so the replies a test sends at once land in one batch however slow the machine; the batcher's
 * counters show the batches that formed.
 */
import { randomUUID } from 'node:crypto';
import { inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messages } from '../../src/modules/messages/messages.schema.js';
import { outbox } from '../../src/modules/outbox/outbox.schema.js';
import { Role } from '../../src/modules/users/role.js';
import { startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { customerTexts, randomUsNumber, setUpInbox, type Inbox } from '../helpers/inbox.js';
import { errorCode, startTestServer, type TestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';

let server: TestServer;
let fake: FakeTwilio;
let a: Inbox;
let b: Inbox;

beforeAll(async () => {
  [server, fake] = await Promise.all([startTestServer({ REPLY_BATCH_MAX: '64', REPLY_BATCH_WAIT_MS: '1000' }), startFakeTwilio()]);
  [a, b] = await Promise.all([setUpInbox(server, fake), setUpInbox(server, fake, { tenantName: 'Other Co' })]);
}, 180_000);
afterAll(async () => {
  await Promise.all([server?.close(), fake?.close()]);
});

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id conversationId body status createdAt } }`;
const send = (token: string, conversationId: string, body: string) =>
  server.gql<{ sendMessage: { id: string; conversationId: string; body: string; status: string; createdAt: string } }>(SEND, { input: { conversationId, body } }, token);
const postsFor = (body: string) => fake.messageRequests.filter((r) => r.params['Body'] === body && r.status === 201);
const stats = () => ({ ...server.app.deps.replies.stats });

describe('group commit of agents replies', { timeout: 120_000 }, () => {
  it('concurrent replies of two tenants form a batch; each gets its own answer, refusals included, and is sent once', async () => {
    const convA = await Promise.all(Array.from({ length: 4 }, () => customerTexts(server, a, randomUsNumber('650'), 'Hello')));
    const convB = await Promise.all(Array.from({ length: 3 }, () => customerTexts(server, b, randomUsNumber('650'), 'Hello')));
    const stopped = randomUsNumber('650');
    const optedOut = await customerTexts(server, a, stopped, 'Hi');
    await customerTexts(server, a, stopped, 'STOP');
    const tag = randomUUID().slice(0, 8);
    const before = stats();

    const calls = [
      ...convA.map((id, i) => ({ token: a.tenant.token, id, body: `${tag} a${i}` })),
      ...convB.map((id, i) => ({ token: b.tenant.token, id, body: `${tag} b${i}` })),
      // Two replies in one conversation: successive statements, both kept.
      { token: a.tenant.token, id: convA[0]!, body: `${tag} a0 again` },
    ];
    const refused = [
      // Another tenant's conversation reads as absent, whatever its neighbours in the batch.
      { token: a.tenant.token, id: convB[0]!, body: `${tag} cross-tenant`, code: 'NOT_FOUND' },
      { token: b.tenant.token, id: randomUUID(), body: `${tag} unknown`, code: 'NOT_FOUND' },
      { token: a.tenant.token, id: optedOut, body: `${tag} opted out`, code: 'CONTACT_OPTED_OUT' },
    ];
    const [answers, refusals] = await Promise.all([
      Promise.all(calls.map((c) => send(c.token, c.id, c.body))),
      Promise.all(refused.map((c) => send(c.token, c.id, c.body))),
    ]);

    answers.forEach((res, i) => {
      expect(res.errors).toBeUndefined();
      expect(res.data!.sendMessage).toMatchObject({ conversationId: calls[i]!.id, body: calls[i]!.body, status: 'QUEUED' });
    });
    refusals.forEach((res, i) => expect(errorCode(res)).toBe(refused[i]!.code));
    const after = stats();
    expect(after.items - before.items).toBe(calls.length + refused.length);
    expect(after.largest).toBeGreaterThanOrEqual(5);
    expect(after.batches - before.batches).toBeLessThan(calls.length + refused.length);
    expect(after.fallbacks).toBe(before.fallbacks);

    // Each stored once, under its own tenant, with its outbox job; then sent exactly once.
    const ids = answers.map((r) => r.data!.sendMessage.id);
    const rows = await server.app.deps.db.select().from(messages).where(inArray(messages.id, ids));
    expect(rows).toHaveLength(calls.length);
    for (const row of rows) {
      const call = calls[ids.indexOf(row.id)]!;
      expect(row.tenantId).toBe(call.token === a.tenant.token ? a.tenant.tenantId : b.tenant.tenantId);
      expect(row.authorId).toBe(call.token === a.tenant.token ? a.tenant.userId : b.tenant.userId);
    }
    for (const c of calls) await waitFor(() => postsFor(c.body).length === 1, { what: `${c.body} to reach Twilio` });
    await waitFor(async () => (await server.app.deps.db.select().from(outbox).where(inArray(outbox.messageId, ids))).length === 0, { what: 'the jobs to go' });
    for (const c of calls) expect(postsFor(c.body)).toHaveLength(1);
    for (const c of refused) expect(fake.messageRequests.filter((r) => r.params['Body'] === c.body)).toHaveLength(0);

    // The conversation with two replies: distinct times, the later one its last message.
    const twice = await server.gql(
      `query($id: ID!) { conversation(id: $id) { lastMessage { id } messages(first: 5) { edges { node { id body createdAt } } } } }`,
      { id: convA[0] },
      a.tenant.token,
    );
    const thread = twice.data!.conversation.messages.edges.map((e: { node: { id: string; body: string; createdAt: string } }) => e.node);
    const replies = thread.filter((m: { body: string }) => m.body.startsWith(`${tag} a0`));
    expect(replies).toHaveLength(2);
    expect(replies[0].createdAt).not.toBe(replies[1].createdAt);
    expect(twice.data!.conversation.lastMessage.id).toBe(thread[0].id);
  });

  it('a reply whose row fails undoes the batch statement; its neighbours are then written one by one and only it fails', async () => {
    const conversations = await Promise.all(Array.from({ length: 4 }, () => customerTexts(server, a, randomUsNumber('650'), 'Hello')));
    const tag = randomUUID().slice(0, 8);
    const before = stats();
    const values = (conversationId: string, body: string, authorId: string) => ({ conversationId, body, media: [], authorId, segments: 1, idempotencyKey: null });
    const viewer = { userId: a.tenant.userId, role: Role.ADMIN };
    const outcomes = await Promise.allSettled([
      ...conversations.slice(0, 3).map((id, i) =>
        server.app.deps.replies.send({ tenantId: a.tenant.tenantId, viewer, values: values(id, `${tag} ok ${i}`, a.tenant.userId) }),
      ),
      // An author who is no user of the tenant: the foreign key refuses the row.
      server.app.deps.replies.send({ tenantId: a.tenant.tenantId, viewer, values: values(conversations[3]!, `${tag} bad`, randomUUID()) }),
    ]);
    expect(outcomes.slice(0, 3).map((o) => (o.status === 'fulfilled' ? o.value.kind : o.reason))).toEqual(['sent', 'sent', 'sent']);
    expect(outcomes[3]!.status).toBe('rejected');
    expect(stats().fallbacks).toBeGreaterThan(before.fallbacks);
    const stored = await server.app.deps.db.select().from(messages).where(inArray(messages.conversationId, conversations));
    expect(stored.filter((m) => m.body.startsWith(tag)).map((m) => m.body).sort()).toEqual([`${tag} ok 0`, `${tag} ok 1`, `${tag} ok 2`]);
  });
});
