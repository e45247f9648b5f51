import 'reflect-metadata';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildSchema, parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operationCost } from '../../src/graphql/query-cost.js';
import { startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { customerTexts, randomUsNumber, setUpInbox, type Inbox } from '../helpers/inbox.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const MAX_COST = 50_000; // the default of GRAPHQL_MAX_COST

// What a dashboard asks for (issue 11): a page of 50 conversations with contact, assignee, team,
// labels and their last 20 messages; one conversation's 100 messages with media and authors.
const MESSAGE = 'id conversationId direction body status source segments errorCode createdAt media { url contentType } author { id name }';
const dashboardList = (withTeam: boolean) => `query Inbox($first: Int, $after: String) {
  conversations(first: $first, after: $after) {
    edges { cursor node {
      id status unreadCount lastMessageAt createdAt labels
      contact { id phoneNumber name optedOut blocked }
      assignee { id name email }
      ${withTeam ? 'team { id name }' : ''}
      phoneNumber { id e164 }
      messages(first: 20) { edges { cursor node { ${MESSAGE} } } pageInfo { hasNextPage endCursor } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const THREAD = `query Thread($id: ID!) {
  conversation(id: $id) {
    id status contact { id name phoneNumber }
    messages(first: 100) { edges { cursor node { ${MESSAGE} } } pageInfo { hasNextPage endCursor } }
  }
}`;
// 100 × 100 × 100 nested pages: a million messages asked for.
const NESTED = `query { conversations(first: 100) { edges { node { contact { conversations(first: 100) { edges { node {
  messages(first: 100) { edges { node { id body } } } } } } } } } } }`;
const aliasBomb = (n: number) => `query { ${Array.from({ length: n }, (_, i) => `a${i}: conversations(first: 50) { edges { node { id messages(first: 20) { edges { node { id body } } } } } }`).join('\n')} }`;

describe('query cost model (pure)', () => {
  // The target contract has fields other issues add (team...): the model is checked against it,
  // or against the committed schema in a clone without the shared folder.
  const contractNext = resolve(import.meta.dirname, '../../../shared/contract-next.graphql');
  const hasNext = existsSync(contractNext);
  const next = buildSchema(readFileSync(hasNext ? contractNext : resolve(import.meta.dirname, '../../schema.graphql'), 'utf8'));
  const cost = (query: string, variables: Record<string, unknown> = {}) => operationCost(next, parse(query), undefined, variables);

  it('a dashboard page and a 100-message thread fit, with room to spare', () => {
    const list = cost(dashboardList(hasNext), { first: 50 });
    expect(list).toBeGreaterThan(10_000);
    expect(list).toBeLessThan(MAX_COST / 2);
    expect(cost(THREAD, { id: 'x' })).toBeLessThan(5_000);
  });

  it('100 × 100 × 100 nested pages and alias bombs cost far more than the limit', () => {
    expect(cost(NESTED)).toBeGreaterThan(1_000_000);
    expect(cost(aliasBomb(30))).toBeGreaterThan(2 * MAX_COST);
  });

  it('counts page sizes from variables, the default page when omitted, and fragments once per spread', () => {
    const q = `query($n: Int) { conversations(first: $n) { edges { node { id } } } }`;
    expect(cost(q, { n: 10 })).toBe(1 + 10 * 3);
    expect(cost(q, {})).toBe(1 + 20 * 3);
    expect(cost(q, { n: 100_000 })).toBe(1 + 100 * 3); // the resolver refuses it with a precise message
    const withFragments = `query { conversations(first: 10) { edges { node { ...C ...C } } } } fragment C on Conversation { id status }`;
    expect(cost(withFragments)).toBe(1 + 10 * (1 + 1 + 4));
    expect(cost(`query { __typename me { id } }`)).toBe(2);
  });
});

describe('query cost limit (real server)', () => {
  let server: TestServer;
  let fake: FakeTwilio;
  let inbox: Inbox;
  let conversationId: string;

  beforeAll(async () => {
    // A deeper depth limit than the default, so that the cost (not the depth) is what refuses.
    [server, fake] = await Promise.all([startTestServer({ DISPATCHER_ENABLED: 'false', GRAPHQL_MAX_DEPTH: '16' }), startFakeTwilio()]);
    inbox = await setUpInbox(server, fake);
    conversationId = await customerTexts(server, inbox, randomUsNumber(), 'hello');
  });
  afterAll(async () => {
    await Promise.all([server?.close(), fake?.close()]);
  });

  it('answers the dashboard queries', async () => {
    const list = await server.gql(dashboardList(false), { first: 50 }, inbox.tenant.token);
    expect(list.errors).toBeUndefined();
    expect(list.data!.conversations.edges).toHaveLength(1);
    const thread = await server.gql(THREAD, { id: conversationId }, inbox.tenant.token);
    expect(thread.errors).toBeUndefined();
    expect(thread.data!.conversation.messages.edges).toHaveLength(1);
  });

  it('refuses nested pages and alias bombs with 400 before running anything', async () => {
    const statements = server.app.deps.database.stats;
    for (const query of [NESTED, aliasBomb(30)]) {
      // The counter is the server's: a background worker (routing sweep, presence, socket
      // heartbeats) may run a statement during a request. A refusal that ran SQL would count on
      // every try, so one clean try out of three proves it ran none.
      const deltas: number[] = [];
      for (let attempt = 0; attempt < 3 && !deltas.includes(0); attempt++) {
        const before = statements.statements;
        const res = await server.gql(query, {}, inbox.tenant.token);
        expect(res.status).toBe(400);
        expect(res.errors![0]!.extensions!.code).toBe('GRAPHQL_VALIDATION_FAILED');
        expect(res.errors![0]!.message).toMatch(/cost \d+ exceeds the maximum of 50000/);
        expect(res.data).toBeNull();
        deltas.push(statements.statements - before);
      }
      expect(deltas).toContain(0);
    }
  });

  it('reads page sizes from the variables', async () => {
    const query = `query($n: Int) { conversations(first: $n) { edges { node { id messages(first: $n) { edges { node { ${MESSAGE} } } } } } } }`;
    expect((await server.gql(query, { n: 20 }, inbox.tenant.token)).errors).toBeUndefined();
    const res = await server.gql(query, { n: 100 }, inbox.tenant.token);
    expect(res.errors![0]!.message).toMatch(/exceeds the maximum/);
  });

  it('applies to subscriptions too', async () => {
    const client = server.ws(inbox.tenant.token);
    const outcome = await new Promise<unknown>((resolveOutcome) => {
      client.subscribe(
        { query: `subscription { conversationUpdated { id contact { conversations(first: 100) { edges { node { messages(first: 100) { edges { node { id body status direction segments createdAt } } } } } } } } }` },
        { next: () => resolveOutcome('next'), error: (err) => resolveOutcome(err), complete: () => resolveOutcome('complete') },
      );
    });
    expect(JSON.stringify(outcome)).toMatch(/exceeds the maximum/);
  });
});
