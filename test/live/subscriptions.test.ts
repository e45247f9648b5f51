import { describe, expect, it, onTestFinished } from 'vitest';
import { createAgent } from '../helpers/factories.js';
import { fakeSid, type FakeTwilio } from '../helpers/fake-twilio.js';
import { customerTexts, randomUsNumber, setUpInbox, type Inbox } from '../helpers/inbox.js';
import { collect, subscribed } from '../helpers/live.js';
import type { TestServer } from '../helpers/test-server.js';
import { serverWithFakeTwilio } from '../helpers/suite.js';
import { messageUpdatedEvent } from '../../src/events/live-events.js';
import { sendInbound, sendStatus } from '../helpers/twilio-setup.js';
import { sleep, waitFor } from '../helpers/wait.js';

let server: TestServer;
let fake: FakeTwilio;
let a: Inbox;
let b: Inbox;
let agent: { id: string; token: string };

// The dispatcher still sends at once when woken by a reply; a long poll keeps it quiet
// otherwise, so the statement count below sees only the subscriptions' own queries.
serverWithFakeTwilio({ DISPATCHER_POLL_MS: '60000' }, async (started) => {
  ({ server, fake } = started);
  [a, b] = await Promise.all([setUpInbox(server, fake), setUpInbox(server, fake, { tenantName: 'Other Co' })]);
  agent = await createAgent(server, a.tenant.token);
});

const bus = () => server.app.deps.events;

/** A message of tenant B (a customer texts B's number). */
async function bMessage(body: string): Promise<{ id: string; conversationId: string }> {
  const conversationId = await customerTexts(server, b, randomUsNumber('650'), body);
  const res = await server.gql(`query($id: ID!) { conversation(id: $id) { lastMessage { id } } }`, { id: conversationId }, b.tenant.token);
  return { id: res.data!.conversation.lastMessage.id as string, conversationId };
}
const MESSAGE_ADDED = `subscription($c: ID) { messageAdded(conversationId: $c) { id conversationId body direction status author { id } } }`;
const MESSAGE_UPDATED = `subscription($c: ID) { messageUpdated(conversationId: $c) { id status twilioSid errorCode } }`;
const CONVERSATION_UPDATED = `subscription { conversationUpdated { id status unreadCount assignee { id } contact { phoneNumber optedOut } } }`;

describe('live subscriptions', () => {
  it("delivers an inbound webhook's message to its tenant's subscribers, and nothing to another tenant's", async () => {
    const customer = randomUsNumber('650');
    const existing = await customerTexts(server, a, customer, 'first');
    const elsewhereCustomer = randomUsNumber('650');
    const otherConversation = await customerTexts(server, a, elsewhereCustomer, 'elsewhere');

    const base = bus().subscriberCount;
    const mine = collect(server.ws(agent.token), MESSAGE_ADDED);
    const narrowed = collect(server.ws(agent.token), MESSAGE_ADDED, { c: existing });
    const narrowedElsewhere = collect(server.ws(agent.token), MESSAGE_ADDED, { c: otherConversation });
    const theirs = collect(server.ws(b.tenant.token), MESSAGE_ADDED);
    await subscribed(bus(), base + 4);

    const res = await sendInbound(server, a.account, { from: customer, to: a.number.e164, body: 'Is the shop open today?' });
    expect(res.status).toBe(200);

    const [event] = await mine.waitForCount(1);
    expect(event).toMatchObject({
      conversationId: existing,
      body: 'Is the shop open today?',
      direction: 'INBOUND',
      status: 'RECEIVED',
      author: null,
    });
    expect((await narrowed.waitForCount(1))[0]!.id).toBe(event!.id);
    // Markers published after the message: each subscription receives its marker, and anything
    // of the message would have come before it.
    await customerTexts(server, b, randomUsNumber('650'), 'marker for b');
    await sendInbound(server, a.account, { from: elsewhereCustomer, to: a.number.e164, body: 'marker elsewhere' });
    expect((await theirs.waitForCount(1)).map((e) => e.body)).toEqual(['marker for b']);
    expect((await narrowedElsewhere.waitForCount(1)).map((e) => e.body)).toEqual(['marker elsewhere']);
    expect(theirs.errors).toEqual([]);
    expect((await mine.waitForCount(2)).map((e) => e.body)).toEqual(['Is the shop open today?', 'marker elsewhere']);
  });

  it("refuses a subscription narrowed to another tenant's conversation, as if it did not exist", async () => {
    const foreign = await customerTexts(server, b, randomUsNumber('650'), 'hello b');
    const attempt = collect(server.ws(agent.token), MESSAGE_ADDED, { c: foreign });
    await waitFor(() => attempt.errors.length > 0, { what: 'the subscription error' });
    expect(JSON.stringify(attempt.errors)).toContain('NOT_FOUND');
    expect(attempt.events).toEqual([]);
  });

  it('reports a reply live: messageAdded (QUEUED), then messageUpdated up to SENT, then DELIVERED from the signed callback', async () => {
    const customer = randomUsNumber('650');
    const conversationId = await customerTexts(server, a, customer, 'Can I book for Friday?');
    const base = bus().subscriberCount;
    const added = collect(server.ws(agent.token), MESSAGE_ADDED, { c: conversationId });
    const updated = collect(server.ws(agent.token), MESSAGE_UPDATED, { c: conversationId });
    const otherTenantUpdates = collect(server.ws(b.tenant.token), MESSAGE_UPDATED);
    await subscribed(bus(), base + 3);

    const sent = await server.gql(
      `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`,
      { input: { conversationId, body: 'Friday 3pm works.' } },
      agent.token,
    );
    expect(sent.errors).toBeUndefined();
    const messageId = sent.data!.sendMessage.id as string;

    const [addedEvent] = await added.waitForCount(1);
    expect(addedEvent).toMatchObject({ id: messageId, direction: 'OUTBOUND', body: 'Friday 3pm works.', author: { id: agent.id } });

    const sentEvent = await waitFor(() => updated.events.find((e) => e.status === 'SENT'), { what: 'a SENT update' });
    const [post] = fake.messageRequests.filter((r) => r.params['Body'] === 'Friday 3pm works.');
    expect(sentEvent).toMatchObject({ id: messageId, twilioSid: post!.sid });

    const callback = await sendStatus(server, a.account, {
      messageId,
      messageSid: post!.sid!,
      status: 'delivered',
      from: a.number.e164,
      to: customer,
    });
    expect(callback.status).toBe(200);
    const delivered = await waitFor(() => updated.events.find((e) => e.status === 'DELIVERED'), { what: 'a DELIVERED update' });
    expect(delivered.id).toBe(messageId);

    // Each update carries the row as loaded when it was delivered: statuses never go back.
    const rank = ['QUEUED', 'SENDING', 'SENT', 'DELIVERED'];
    const seen = updated.events.map((e) => rank.indexOf(e.status));
    expect(seen).toEqual([...seen].sort((x, y) => x - y));
    // A marker update of tenant B, published after all of A's: B's subscription gets only it.
    const bMarker = await bMessage('marker update for b');
    bus().publish(messageUpdatedEvent({ id: bMarker.id, tenantId: b.tenant.tenantId, conversationId: bMarker.conversationId }));
    expect((await otherTenantUpdates.waitForCount(1)).map((e) => e.id)).toEqual([bMarker.id]);
  });

  it('publishes conversationUpdated for assignment, read and inbound activity, always with fresh relations', async () => {
    const customer = randomUsNumber('650');
    const conversationId = await customerTexts(server, a, customer, 'hi');
    const base = bus().subscriberCount;
    const updates = collect(server.ws(agent.token), CONVERSATION_UPDATED);
    const theirs = collect(server.ws(b.tenant.token), CONVERSATION_UPDATED);
    await subscribed(bus(), base + 2);

    const assign = await server.gql(
      `mutation($c: ID!, $u: ID) { assignConversation(conversationId: $c, assigneeId: $u) { id } }`,
      { c: conversationId, u: agent.id },
      a.tenant.token,
    );
    expect(assign.errors).toBeUndefined();
    const [assigned] = await updates.waitForCount(1);
    expect(assigned).toMatchObject({ id: conversationId, assignee: { id: agent.id }, contact: { phoneNumber: customer, optedOut: false } });

    await server.gql(`mutation($c: ID!) { markConversationRead(conversationId: $c) { id } }`, { c: conversationId }, agent.token);
    const [, read] = await updates.waitForCount(2);
    expect(read).toMatchObject({ id: conversationId, unreadCount: 0 });

    // The customer opts out: the same subscription must not serve the contact cached earlier.
    await sendInbound(server, a.account, { from: customer, to: a.number.e164, body: 'STOP' });
    const optedOut = await waitFor(() => updates.events.find((e) => e.contact.optedOut === true), { what: 'an update with the opt-out' });
    expect(optedOut).toMatchObject({ id: conversationId, unreadCount: 1 });

    await server.gql(
      `mutation($c: ID!, $s: ConversationStatus!) { setConversationStatus(conversationId: $c, status: $s) { id } }`,
      { c: conversationId, s: 'RESOLVED' },
      agent.token,
    );
    await waitFor(() => updates.events.find((e) => e.status === 'RESOLVED'), { what: 'the RESOLVED update' });
    // A marker: tenant B's own inbound activity, after all of A's; B's subscription gets only it.
    const bConversation = await customerTexts(server, b, randomUsNumber('650'), 'marker for b');
    expect((await theirs.waitForCount(1)).map((e) => e.id)).toEqual([bConversation]);
  });

  it('loads each event\'s row once per instance, however many subscribers', async () => {
    const conversationId = await customerTexts(server, a, randomUsNumber('650'), 'hydrate me');
    const base = bus().subscriberCount;
    const light = `subscription { messageAdded { id body } }`;
    // Twelve of the agent's 20 sockets (WS_MAX_SOCKETS_PER_USER): closed at the end, so that a retry
    // of this test, or the next test, is not refused a socket.
    const clients = Array.from({ length: 12 }, () => server.ws(agent.token));
    onTestFinished(async () => {
      await Promise.all(clients.map((c) => c.dispose()));
      await waitFor(() => bus().subscriberCount <= base, { what: "the test's subscribers to be removed" });
    });
    const subscribers = clients.map((client) => collect(client, light));
    await subscribed(bus(), base + subscribers.length);
    await sleep(100); // let earlier work (inbound webhook, dispatcher wake-ups) settle

    const message = await server.gql(
      `query($id: ID!) { conversation(id: $id) { lastMessage { id } } }`,
      { id: conversationId },
      agent.token,
    );
    const messageId = message.data!.conversation.lastMessage.id as string;
    // Only statements about this message count: a periodic worker may run in the same window.
    const { watchers } = server.app.deps.database.stats;
    const loads: string[] = [];
    const watch = (query: string, params: unknown[]) => void (params.some((p) => String(p).includes(messageId)) && loads.push(query));
    watchers.add(watch);
    try {
      bus().publish({ type: 'messageAdded', tenantId: a.tenant.tenantId, id: messageId, conversationId });
      await Promise.all(subscribers.map((s) => s.waitForCount(1)));
    } finally {
      watchers.delete(watch);
    }
    expect(subscribers.map((s) => s.events[0]!.id)).toEqual(subscribers.map(() => messageId));
    expect(loads).toHaveLength(1);
  });

  it('delivers an inbound text from the row its webhook committed: no load here, the fields a query reads', async () => {
    const FIELDS = `id conversationId direction body status segments mediaDropped source twilioSid errorCode errorMessage createdAt
      media { contentType } author { id } campaign { id }`;
    const base = bus().subscriberCount;
    const full = collect(server.ws(agent.token), `subscription { messageAdded { ${FIELDS} } }`);
    await subscribed(bus(), base + 1);

    const statements: Array<{ query: string; params: unknown[] }> = [];
    const watch = (query: string, params: unknown[]) => void statements.push({ query, params });
    const { watchers } = server.app.deps.database.stats;
    watchers.add(watch);
    let delivered: Array<Record<string, unknown>>;
    try {
      // A plain text (the lean statement), then one with media (the full statement).
      expect((await sendInbound(server, a.account, { from: randomUsNumber('650'), to: a.number.e164, body: 'plain text' })).status).toBe(200);
      const messageSid = fakeSid('MM');
      const media = [{ url: fake.addMedia(a.account.accountSid, 'image/png', 'png bytes', { messageSid }), contentType: 'image/png' }];
      const withMedia = { from: randomUsNumber('650'), to: a.number.e164, body: 'with a picture', messageSid, media };
      expect((await sendInbound(server, a.account, withMedia)).status).toBe(200);
      delivered = await full.waitForCount(2);
    } finally {
      watchers.delete(watch);
    }
    expect(delivered.map((e) => e.body)).toEqual(['plain text', 'with a picture']);
    // Nothing but the ingest statement named the plain text before its delivery (the media one
    // also has its copy job, which a worker may claim meanwhile).
    const plainId = delivered[0]!.id as string;
    const named = statements.filter(({ params }) => params.some((p) => String(p).includes(plainId)));
    expect(named.map(({ query }) => query.includes('json_to_recordset'))).toEqual([true]);

    for (const event of delivered) {
      const read = await server.gql(
        `query($id: ID!) { conversation(id: $id) { messages(first: 5) { edges { node { ${FIELDS} } } } } }`,
        { id: event.conversationId },
        agent.token,
      );
      const nodes = read.data!.conversation.messages.edges.map((e: { node: Record<string, unknown> }) => e.node);
      expect(nodes.find((n: Record<string, unknown>) => n.id === event.id)).toEqual(event);
    }
    expect(full.errors).toEqual([]);
  });

  it("loads the rows of one tick's events of several tenants in one statement, each row only in its event's tenant", async () => {
    const aConversation = await customerTexts(server, a, randomUsNumber('650'), 'a row');
    const aMessage = await server.gql(`query($id: ID!) { conversation(id: $id) { lastMessage { id } } }`, { id: aConversation }, agent.token);
    const aMessageId = aMessage.data!.conversation.lastMessage.id as string;
    const bMessageRow = await bMessage('b row');
    const base = bus().subscriberCount;
    const light = `subscription { messageAdded { id body } }`;
    const clients = [server.ws(agent.token), server.ws(b.tenant.token)];
    onTestFinished(async () => {
      await Promise.all(clients.map((c) => c.dispose()));
      await waitFor(() => bus().subscriberCount <= base, { what: "the test's subscribers to be removed" });
    });
    const [mine, theirs] = clients.map((client) => collect(client, light));
    await subscribed(bus(), base + 2);

    const { watchers } = server.app.deps.database.stats;
    const loads: string[] = [];
    const watch = (query: string, params: unknown[]) =>
      void (params.some((p) => String(p).includes(aMessageId) || String(p).includes(bMessageRow.id)) && loads.push(query));
    watchers.add(watch);
    try {
      bus().publish(
        { type: 'messageAdded', tenantId: a.tenant.tenantId, id: aMessageId, conversationId: aConversation },
        { type: 'messageAdded', tenantId: b.tenant.tenantId, id: bMessageRow.id, conversationId: bMessageRow.conversationId },
      );
      expect((await mine!.waitForCount(1)).map((e) => e.body)).toEqual(['a row']);
      expect((await theirs!.waitForCount(1)).map((e) => e.body)).toEqual(['b row']);
    } finally {
      watchers.delete(watch);
    }
    expect(loads).toHaveLength(1);

    // An event of tenant A naming B's message (a forged or corrupted event) finds no row: A's
    // subscriber gets nothing of it, and the marker after it (A's own message) comes next.
    bus().publish({ type: 'messageAdded', tenantId: a.tenant.tenantId, id: bMessageRow.id, conversationId: bMessageRow.conversationId });
    bus().publish({ type: 'messageAdded', tenantId: a.tenant.tenantId, id: aMessageId, conversationId: aConversation });
    expect((await mine!.waitForCount(2)).map((e) => e.id)).toEqual([aMessageId, aMessageId]);
    expect(mine!.errors).toEqual([]);
  });

  it('ends the subscription on the bus when the client unsubscribes', async () => {
    const base = bus().subscriberCount;
    const client = server.ws(agent.token);
    const sub = collect(client, MESSAGE_ADDED);
    await subscribed(bus(), base + 1);
    sub.unsubscribe();
    await waitFor(() => bus().subscriberCount === base, { what: 'the subscriber to be removed' });
  });
});
