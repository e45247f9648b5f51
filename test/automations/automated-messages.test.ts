import 'reflect-metadata';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { csatSurveys, messages } from '../../src/db/schema.js';
import { createAgent } from '../helpers/factories.js';
import { fakeSid, startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { customerTexts, randomUsNumber, setUpInbox, type Inbox } from '../helpers/inbox.js';
import { errorCode, startTestServer, type TestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';
import { contactOf } from '../inbound/fixtures.js';
import { AUTOMATION_ENV, engineOf, automatedRows, conversationsOfTenant, manualClock, resolve, sentTo, setAutomatedMessage, settle, text } from './helpers.js';

let server: TestServer;
let fake: FakeTwilio;

beforeAll(async () => {
  fake = await startFakeTwilio();
  server = await startTestServer({ ...AUTOMATION_ENV, AUTOMATION_MAX_PER_CONTACT_PER_HOUR: '3' });
});

afterAll(async () => {
  await server?.close();
  await fake?.close();
});

describe('setAutomatedMessage', () => {
  let inbox: Inbox;
  beforeEach(async () => {
    inbox = await setUpInbox(server, fake);
  });

  it('creates, then replaces, the number text for a trigger; PhoneNumber.automatedMessages lists them', async () => {
    await setAutomatedMessage(server, inbox, 'GREETING', 'Hi {{contact.name}}, thanks for texting {{tenant.name}}!');
    const replaced = await setAutomatedMessage(server, inbox, 'GREETING', 'Hello from {{tenant.name}}', false);
    await setAutomatedMessage(server, inbox, 'FAILURE', 'Sorry, {{tenant.name}} cannot read texts right now.');
    const res = await server.gql(`{ phoneNumbers { id automatedMessages { id trigger body enabled } } }`, {}, inbox.tenant.token);
    const number = (res.data!.phoneNumbers as Array<{ id: string; automatedMessages: unknown[] }>).find((n) => n.id === inbox.number.id)!;
    expect(number.automatedMessages).toEqual(
      expect.arrayContaining([
        { id: replaced.id, trigger: 'GREETING', body: 'Hello from {{tenant.name}}', enabled: false },
        expect.objectContaining({ trigger: 'FAILURE', enabled: true }),
      ]),
    );
    expect(number.automatedMessages).toHaveLength(2);
  });

  it('refuses bad bodies, other placeholders in FAILURE, agents and numbers of another tenant; nothing stored', async () => {
    const set = (input: Record<string, unknown>, token = inbox.tenant.token) =>
      server.gql(`mutation($input: SetAutomatedMessageInput!) { setAutomatedMessage(input: $input) { id } }`, { input }, token);
    const base = { phoneNumberId: inbox.number.id, trigger: 'GREETING', body: 'Hi', enabled: true };
    expect(errorCode(await set({ ...base, body: '   ' }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await set({ ...base, body: 'x'.repeat(1601) }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await set({ ...base, body: 'Hi {{contact.phone}}' }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await set({ ...base, trigger: 'FAILURE', body: 'Sorry {{contact.name}}' }))).toBe('BAD_USER_INPUT');
    const agent = await createAgent(server, inbox.tenant.token);
    expect(errorCode(await set(base, agent.token))).toBe('FORBIDDEN');
    const other = await setUpInbox(server, fake, { tenantName: 'Other Co' });
    expect(errorCode(await set({ ...base, phoneNumberId: other.number.id }))).toBe('NOT_FOUND');
    const res = await server.gql(`{ phoneNumbers { automatedMessages { id } } }`, {}, inbox.tenant.token);
    expect((res.data!.phoneNumbers as Array<{ automatedMessages: unknown[] }>).flatMap((n) => n.automatedMessages)).toEqual([]);
  });
});

describe('GREETING', () => {
  it('answers the first text of a new conversation once, even with the webhook retried 5 times; later texts get nothing', async () => {
    const inbox = await setUpInbox(server, fake, { tenantName: 'Acme Dental' });
    await setAutomatedMessage(server, inbox, 'GREETING', 'Thanks for texting {{tenant.name}}! {{contact.name}}');
    const customer = randomUsNumber();
    const sid = fakeSid('SM');
    await Promise.all(Array.from({ length: 5 }, () => text(server, inbox, customer, 'Hi, is the clinic open?', { messageSid: sid })));
    await text(server, inbox, customer, 'Hello?');
    await settle(server, inbox.tenant.tenantId);

    expect(sentTo(fake, customer)).toEqual(['Thanks for texting Acme Dental!']);
    const [greeting] = await automatedRows(server, inbox.tenant.tenantId);
    expect(greeting).toMatchObject({ direction: 'OUTBOUND', authorId: null, source: 'AUTOMATION', status: 'SENT' });
    const thread = await server.gql(
      `query($id: ID!) { conversation(id: $id) { messages(first: 10) { edges { node { body direction source author { id } } } } } }`,
      { id: greeting!.conversationId },
      inbox.tenant.token,
    );
    const nodes = (thread.data!.conversation.messages.edges as Array<{ node: Record<string, unknown> }>).map((e) => e.node);
    expect(nodes).toContainEqual({ body: 'Thanks for texting Acme Dental!', direction: 'OUTBOUND', source: 'AUTOMATION', author: null });
  });

  it('never answers STOP, START, HELP, a text carrying OptOutType, or an opted-out contact', async () => {
    const inbox = await setUpInbox(server, fake);
    await setAutomatedMessage(server, inbox, 'GREETING', 'Welcome!');
    const stopper = randomUsNumber();
    await text(server, inbox, stopper, 'STOP');
    await text(server, inbox, stopper, 'are you there'); // opted out now: still no answer
    await text(server, inbox, randomUsNumber(), ' help ');
    await text(server, inbox, randomUsNumber(), 'Start');
    await text(server, inbox, randomUsNumber(), 'Please stop texting me', { params: { OptOutType: 'STOP' } });
    // The marker: a plain new customer, answered after all of the above were decided.
    const marker = randomUsNumber();
    await text(server, inbox, marker, 'hello');
    await settle(server, inbox.tenant.tenantId);
    expect((await contactOf(server, inbox.tenant.tenantId, stopper))?.optedOut).toBe(true);
    expect((await automatedRows(server, inbox.tenant.tenantId)).map((m) => m.body)).toEqual(['Welcome!']);
    expect(sentTo(fake, marker)).toEqual(['Welcome!']);
  });
});

describe('RESOLVED and the customer survey', () => {
  it('resolve → RESOLVED text, then the survey once it is SENT; "5" rates without reopening; "hello" reopens', async () => {
    const inbox = await setUpInbox(server, fake, { tenantName: 'Acme Dental' });
    await setAutomatedMessage(server, inbox, 'RESOLVED', 'Glad we could help. {{agent.name}}');
    await setAutomatedMessage(server, inbox, 'CSAT_SURVEY', 'How did we do? Reply 1 to 5.');
    const clock = manualClock(server, '2026-06-02T15:00:00Z');
    const customer = randomUsNumber();
    const conversationId = await customerTexts(server, inbox, customer, 'My crown fell off');
    await resolve(server, inbox.tenant.token, conversationId);
    await resolve(server, inbox.tenant.token, conversationId); // already resolved: triggers nothing
    await waitFor(() => sentTo(fake, customer).length === 2, { timeoutMs: 30_000, what: 'the survey' });
    await settle(server, inbox.tenant.tenantId);
    expect(sentTo(fake, customer)).toEqual(['Glad we could help.', 'How did we do? Reply 1 to 5.']);

    clock.advance(3600_000);
    await text(server, inbox, customer, ' 5 ');
    await text(server, inbox, customer, 'four stars'); // the first answer wins
    const rated = await server.gql(
      `query($id: ID!) { conversation(id: $id) { status csatRating messages(first: 10) { edges { node { body direction } } } } }`,
      { id: conversationId },
      inbox.tenant.token,
    );
    expect(rated.data!.conversation).toMatchObject({ status: 'RESOLVED', csatRating: 5 });
    expect((rated.data!.conversation.messages.edges as Array<{ node: { body: string } }>).map((e) => e.node.body)).toEqual(
      expect.arrayContaining([' 5 ', 'four stars']),
    );
    expect(await conversationsOfTenant(server, inbox.tenant.tenantId)).toHaveLength(1);
    const average = await server.gql(`{ me { csatAverage csatSince: csatAverage(since: "2030-01-01T00:00:00Z") } }`, {}, inbox.tenant.token);
    expect(average.data!.me).toEqual({ csatAverage: 5, csatSince: null });

    await text(server, inbox, customer, 'hello');
    const live = (await conversationsOfTenant(server, inbox.tenant.tenantId)).filter((c) => c.status !== 'RESOLVED');
    expect(live).toHaveLength(1);
    await settle(server, inbox.tenant.tenantId);
    // Neither the ratings nor "hello" got an automated answer (no GREETING is set).
    expect(sentTo(fake, customer)).toHaveLength(2);
  });

  it('a rating later than 24 h after the survey is an ordinary text (opens a conversation, rates nothing)', async () => {
    const inbox = await setUpInbox(server, fake);
    await setAutomatedMessage(server, inbox, 'CSAT_SURVEY', 'Rate us 1-5');
    const clock = manualClock(server, '2026-06-02T15:00:00Z');
    const customer = randomUsNumber();
    const conversationId = await customerTexts(server, inbox, customer, 'question');
    await resolve(server, inbox.tenant.token, conversationId);
    await waitFor(() => sentTo(fake, customer).length === 1, { timeoutMs: 30_000, what: 'the survey' });
    clock.advance(25 * 3600_000);
    await text(server, inbox, customer, '5');
    const res = await server.gql(`query($id: ID!) { conversation(id: $id) { csatRating status } }`, { id: conversationId }, inbox.tenant.token);
    expect(res.data!.conversation).toEqual({ csatRating: null, status: 'RESOLVED' });
    expect((await conversationsOfTenant(server, inbox.tenant.tenantId)).filter((c) => c.status === 'OPEN')).toHaveLength(1);
  });

  it('no survey when the RESOLVED text failed', async () => {
    const inbox = await setUpInbox(server, fake);
    await setAutomatedMessage(server, inbox, 'RESOLVED', 'Bye');
    await setAutomatedMessage(server, inbox, 'CSAT_SURVEY', 'Rate us');
    const customer = randomUsNumber();
    const conversationId = await customerTexts(server, inbox, customer, 'hi');
    fake.onMessage((req) => (req.params['To'] === customer ? { error: { status: 400, code: 21211 } } : undefined));
    try {
      await resolve(server, inbox.tenant.token, conversationId);
      await settle(server, inbox.tenant.tenantId);
      // The sweeper saw the FAILED text (or will): wait until the survey left WAITING, then check.
      await waitFor(async () => {
        const [survey] = await server.app.deps.db.select().from(csatSurveys).where(eq(csatSurveys.conversationId, conversationId));
        return survey?.state === 'SKIPPED';
      }, { timeoutMs: 10_000, what: 'the survey to be skipped' });
    } finally {
      fake.onMessage(null);
    }
    expect((await automatedRows(server, inbox.tenant.tenantId)).map((m) => [m.body, m.status])).toEqual([['Bye', 'FAILED']]);
  });
});

describe('loop guard and ALL_AGENTS_BUSY hook', () => {
  it('ALL_AGENTS_BUSY through the routing hook: once per queue entry, and never more than the bound per contact per hour', async () => {
    const inbox = await setUpInbox(server, fake);
    await setAutomatedMessage(server, inbox, 'ALL_AGENTS_BUSY', 'All our agents are busy, we will answer soon.');
    const bot = randomUsNumber();
    const conversationId = await customerTexts(server, inbox, bot, 'AUTO-REPLY: I am away');
    const engine = engineOf(server);
    const tenantId = inbox.tenant.tenantId;
    expect(await engine.allAgentsBusy(tenantId, conversationId, 'entry-1')).toBe(true);
    expect(await engine.allAgentsBusy(tenantId, conversationId, 'entry-1')).toBe(false); // same queue entry
    expect(await engine.allAgentsBusy(tenantId, conversationId, 'entry-2')).toBe(true);
    expect(await engine.allAgentsBusy(tenantId, conversationId, 'entry-3')).toBe(true);
    // AUTOMATION_MAX_PER_CONTACT_PER_HOUR=3 in this file: the bot gets no more.
    expect(await engine.allAgentsBusy(tenantId, conversationId, 'entry-4')).toBe(false);
    expect(await engine.allAgentsBusy(tenantId, conversationId, 'entry-5')).toBe(false);
    await settle(server, tenantId);
    expect(sentTo(fake, bot)).toHaveLength(3);
  });

  it('an inbound text flagged allAgentsBusy gets ALL_AGENTS_BUSY instead of GREETING (one answer per text)', async () => {
    const inbox = await setUpInbox(server, fake);
    await setAutomatedMessage(server, inbox, 'GREETING', 'Welcome');
    await setAutomatedMessage(server, inbox, 'ALL_AGENTS_BUSY', 'Busy');
    const customer = randomUsNumber();
    await text(server, inbox, customer, 'hi');
    await settle(server, inbox.tenant.tenantId);
    const engine = engineOf(server);
    // A second text that routing put in the queue with nobody eligible.
    await text(server, inbox, customer, 'anyone?');
    const [second] = await server.app.deps.db
      .select()
      .from(messages)
      .where(and(eq(messages.tenantId, inbox.tenant.tenantId), eq(messages.body, 'anyone?')));
    expect(await engine.answerInbound({ tenantId: inbox.tenant.tenantId, messageId: second!.id, conversationId: second!.conversationId, allAgentsBusy: true })).toBe(
      'ALL_AGENTS_BUSY',
    );
    await settle(server, inbox.tenant.tenantId);
    expect(sentTo(fake, customer)).toEqual(['Welcome', 'Busy']);

    // A late second decision for a text already answered (the first text got the GREETING):
    // the database keeps it to one answer per text.
    const [first] = await server.app.deps.db
      .select()
      .from(messages)
      .where(and(eq(messages.tenantId, inbox.tenant.tenantId), eq(messages.body, 'hi')));
    await engine.answerInbound({ tenantId: inbox.tenant.tenantId, messageId: first!.id, conversationId: first!.conversationId, allAgentsBusy: true });
    await settle(server, inbox.tenant.tenantId);
    expect(sentTo(fake, customer)).toEqual(['Welcome', 'Busy']);
  });
});
