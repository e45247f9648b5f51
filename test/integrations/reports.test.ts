import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversations, messages } from '../../src/db/schema.js';
import { createAgent } from '../helpers/factories.js';
import { startFakeTwilio, type FakeTwilio } from '../helpers/fake-twilio.js';
import { customerTexts, randomUsNumber, setUpInbox, type Inbox } from '../helpers/inbox.js';
import { errorCode, startTestServer, type TestServer } from '../helpers/test-server.js';

let server: TestServer;
let fake: FakeTwilio;
let r: Inbox;
let other: Inbox;
let a1: Awaited<ReturnType<typeof createAgent>>;
let a2: Awaited<ReturnType<typeof createAgent>>;
let teamId: string;

const T0 = new Date('2026-01-05T10:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000).toISOString();

const REPORT = `query($from: DateTimeISO!, $to: DateTimeISO!, $teamId: ID) {
  report(from: $from, to: $to, teamId: $teamId) {
    from to conversationsOpened conversationsResolved messagesReceived messagesSent
    medianFirstResponseSeconds medianResolutionSeconds csatAverage
    byAgent { agent { id } conversationsResolved medianFirstResponseSeconds csatAverage }
  }
}`;

async function messageId(conversationId: string, body: string): Promise<string> {
  const rows = await server.app.deps.db.select().from(messages).where(eq(messages.conversationId, conversationId));
  const found = rows.find((m) => m.body === body);
  if (!found) throw new Error(`no message "${body}"`);
  return found.id;
}

async function setMessageTime(conversationId: string, body: string, seconds: number) {
  const id = await messageId(conversationId, body);
  await server.app.deps.db.execute(sql`update messages set created_at = ${at(seconds)}::timestamptz where id = ${id}::uuid`);
}

async function reply(conversationId: string, body: string, token: string) {
  const res = await server.gql(`mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`, { input: { conversationId, body } }, token);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
}

async function resolve(conversationId: string, token: string, seconds: number) {
  const res = await server.gql(`mutation($c: ID!) { setConversationStatus(conversationId: $c, status: RESOLVED) { id } }`, { c: conversationId }, token);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  await server.app.deps.db.execute(sql`update conversations set resolved_at = ${at(seconds)}::timestamptz where id = ${conversationId}::uuid`);
}

async function openedAt(conversationId: string, seconds: number) {
  await server.app.deps.db.execute(sql`update conversations set created_at = ${at(seconds)}::timestamptz where id = ${conversationId}::uuid`);
}

/**
 * Ingest and replies keep each conversation's first inbound time and first agent reply (and who
 * gave it): check what they recorded, then move those times onto the seeded timeline.
 */
async function firstResponse(conversationId: string, inboundSeconds: number, reply: { seconds: number; by: string } | null) {
  const [row] = await server.app.deps.db.select().from(conversations).where(eq(conversations.id, conversationId));
  expect(row!.firstInboundAt).not.toBeNull();
  expect(row!.firstResponderId).toBe(reply?.by ?? null);
  expect(row!.firstResponseAt === null).toBe(reply === null);
  await server.app.deps.db.execute(sql`
    update conversations set first_inbound_at = ${at(inboundSeconds)}::timestamptz,
      first_response_at = ${reply ? at(reply.seconds) : null}::timestamptz
    where id = ${conversationId}::uuid`);
}

beforeAll(async () => {
  fake = await startFakeTwilio();
  server = await startTestServer();
  [r, other] = await Promise.all([setUpInbox(server, fake, { tenantName: 'Report Co' }), setUpInbox(server, fake, { tenantName: 'Noise Co' })]);
  a1 = await createAgent(server, r.tenant.token);
  a2 = await createAgent(server, r.tenant.token);

  // c1: in at 0 and 100, A1 answers at 60, A1 resolves at 600.
  const c1 = await customerTexts(server, r, randomUsNumber(), 'c1 hello');
  await customerTexts(server, r, (await server.gql(`query($id: ID!) { conversation(id: $id) { contact { phoneNumber } } }`, { id: c1 }, r.tenant.token)).data!.conversation.contact.phoneNumber, 'c1 more');
  await reply(c1, 'c1 answer', a1.token);
  await resolve(c1, a1.token, 600);
  await openedAt(c1, 0);
  await setMessageTime(c1, 'c1 hello', 0);
  await setMessageTime(c1, 'c1 answer', 60);
  await setMessageTime(c1, 'c1 more', 100);
  await firstResponse(c1, 0, { seconds: 60, by: a1.id });

  // c2: in at 1000, A2 answers at 1180, A2 resolves at 4600.
  const c2 = await customerTexts(server, r, randomUsNumber(), 'c2 hello');
  await reply(c2, 'c2 answer', a2.token);
  await resolve(c2, a2.token, 4600);
  await openedAt(c2, 1000);
  await setMessageTime(c2, 'c2 hello', 1000);
  await setMessageTime(c2, 'c2 answer', 1180);
  await firstResponse(c2, 1000, { seconds: 1180, by: a2.id });

  // c3: in at 2000, never answered, open.
  const c3 = await customerTexts(server, r, randomUsNumber(), 'c3 hello');
  await openedAt(c3, 2000);
  await setMessageTime(c3, 'c3 hello', 2000);
  await firstResponse(c3, 2000, null);

  // c4: opened the day before (in and answer then), resolved by A1 in the period at 3000.
  const c4 = await customerTexts(server, r, randomUsNumber(), 'c4 hello');
  await reply(c4, 'c4 answer', a1.token);
  await resolve(c4, a1.token, 3000);
  await openedAt(c4, -86_400);
  await setMessageTime(c4, 'c4 hello', -86_400);
  await setMessageTime(c4, 'c4 answer', -86_000);
  await firstResponse(c4, -86_400, { seconds: -86_000, by: a1.id });

  // c5: after the period.
  const c5 = await customerTexts(server, r, randomUsNumber(), 'c5 hello');
  await openedAt(c5, 9000);
  await setMessageTime(c5, 'c5 hello', 9000);

  // CSAT answers (as the survey records them: by resolution, with the resolver): c1 5 (A1), c2 2
  // (A2), c4 4 (A1) in the period; c3's survey unanswered; c5's outside the period.
  const survey = (conversationId: string, by: string | null, seconds: number, rating: number | null) =>
    server.app.deps.db.execute(sql`
      insert into csat_surveys (tenant_id, conversation_id, state, resolved_by_id, resolved_at, requested_at, rating, rated_at)
      values (${r.tenant.tenantId}::uuid, ${conversationId}::uuid, 'REQUESTED', ${by}::uuid, ${at(seconds)}::timestamptz,
        ${at(seconds)}::timestamptz, ${rating}, ${rating === null ? null : at(seconds + 60)}::timestamptz)`);
  await survey(c1, a1.id, 600, 5);
  await survey(c2, a2.id, 4600, 2);
  await survey(c4, a1.id, 3000, 4);
  await survey(c3, null, 2000, null);
  await survey(c5, a2.id, 9000, 1);

  // A team with A2 as its only member, holding c2 and c3 (the conversation's team now counts).
  const created = await server.gql(
    `mutation($input: CreateTeamInput!) { createTeam(input: $input) { id } }`,
    { input: { name: 'Billing', memberIds: [a2.id] } },
    r.tenant.token,
  );
  if (created.errors) throw new Error(JSON.stringify(created.errors));
  teamId = created.data!.createTeam.id;
  await server.app.deps.db.execute(sql`update conversations set team_id = ${teamId}::uuid where id in (${c2}::uuid, ${c3}::uuid)`);

  // Another tenant's traffic in the same period.
  const n = await customerTexts(server, other, randomUsNumber(), 'noise');
  await openedAt(n, 10);
  await setMessageTime(n, 'noise', 10);
});
afterAll(async () => {
  await server?.close();
  await fake?.close();
});

describe('report', () => {
  it('equals the figures computed by hand for a seeded period', async () => {
    const res = await server.gql(REPORT, { from: at(0), to: at(7200) }, r.tenant.token);
    expect(res.errors).toBeUndefined();
    const report = res.data!.report;
    // Opened in [0, 7200): c1, c2, c3. Resolved in it: c1 (600 s), c2 (3600 s), c4 (86,400 + 3,000 s).
    expect(report).toMatchObject({
      from: at(0),
      to: at(7200),
      conversationsOpened: 3,
      conversationsResolved: 3,
      messagesReceived: 4, // c1 ×2, c2, c3
      messagesSent: 2, // c1, c2 answers (c4's was the day before)
      medianFirstResponseSeconds: 120, // median of 60 (c1) and 180 (c2)
      medianResolutionSeconds: 3600, // median of 600, 3600, 89400
      csatAverage: 11 / 3, // c1 5, c2 2, c4 4 (c3 unanswered, c5 later)
    });
    const rows = new Map(report.byAgent.map((x: any) => [x.agent.id, x]));
    expect(rows.get(a1.id)).toEqual({ agent: { id: a1.id }, conversationsResolved: 2, medianFirstResponseSeconds: 60, csatAverage: 4.5 });
    expect(rows.get(a2.id)).toEqual({ agent: { id: a2.id }, conversationsResolved: 1, medianFirstResponseSeconds: 180, csatAverage: 2 });
    expect(rows.get(r.tenant.userId)).toEqual({ agent: { id: r.tenant.userId }, conversationsResolved: 0, medianFirstResponseSeconds: null, csatAverage: null });
    expect(report.byAgent).toHaveLength(3);
    // Listed by name (then id), whatever order the figures came in.
    const named = await server.gql(`query($from: DateTimeISO!, $to: DateTimeISO!) { report(from: $from, to: $to) { byAgent { agent { id name } } } }`, { from: at(0), to: at(7200) }, r.tenant.token);
    const names = named.data!.report.byAgent.map((x: any) => `${x.agent.name}\u0000${x.agent.id}`);
    expect(names).toEqual([...names].sort());
  });

  it('filters by team: its conversations, their messages and ratings; its members and whoever has figures in it', async () => {
    const res = await server.gql(REPORT, { from: at(0), to: at(7200), teamId }, r.tenant.token);
    expect(res.errors).toBeUndefined();
    const report = res.data!.report;
    // The team holds c2 (in at 1000, answered by A2 at 1180, resolved at 4600, rated 2) and c3 (open).
    expect(report).toMatchObject({
      conversationsOpened: 2,
      conversationsResolved: 1,
      messagesReceived: 2,
      messagesSent: 1,
      medianFirstResponseSeconds: 180,
      medianResolutionSeconds: 3600,
      csatAverage: 2,
    });
    expect(report.byAgent).toEqual([{ agent: { id: a2.id }, conversationsResolved: 1, medianFirstResponseSeconds: 180, csatAverage: 2 }]);

    // A1 answered and resolved c1 in the team once it moves there: A1 then has a row too.
    const c1 = (await server.app.deps.db.select().from(conversations).where(eq(conversations.tenantId, r.tenant.tenantId))).find(
      (c) => c.resolvedById === a1.id && c.createdAt.getTime() === T0.getTime(),
    )!;
    await server.app.deps.db.execute(sql`update conversations set team_id = ${teamId}::uuid where id = ${c1.id}::uuid`);
    try {
      const moved = (await server.gql(REPORT, { from: at(0), to: at(7200), teamId }, r.tenant.token)).data!.report;
      expect(moved).toMatchObject({ conversationsOpened: 3, conversationsResolved: 2, messagesReceived: 4, messagesSent: 2, csatAverage: 3.5 });
      expect(new Map(moved.byAgent.map((x: any) => [x.agent.id, x])).get(a1.id)).toEqual({
        agent: { id: a1.id },
        conversationsResolved: 1,
        medianFirstResponseSeconds: 60,
        csatAverage: 5,
      });
      expect(moved.byAgent).toHaveLength(2);
    } finally {
      await server.app.deps.db.execute(sql`update conversations set team_id = null where id = ${c1.id}::uuid`);
    }

    // Moved through the API (transferConversation), c3 and its message count for the team it went to.
    const c3 = (await server.app.deps.db.select().from(conversations).where(eq(conversations.teamId, teamId))).find((c) => c.status === 'OPEN')!;
    const elsewhere = (await server.gql(`mutation($input: CreateTeamInput!) { createTeam(input: $input) { id } }`, { input: { name: 'Elsewhere' } }, r.tenant.token)).data!;
    const transfer = (to: string) =>
      server.gql(`mutation($c: ID!, $t: ID) { transferConversation(conversationId: $c, teamId: $t) { id } }`, { c: c3.id, t: to }, r.tenant.token);
    expect((await transfer(elsewhere.createTeam.id)).errors).toBeUndefined();
    try {
      const left = (await server.gql(REPORT, { from: at(0), to: at(7200), teamId }, r.tenant.token)).data!.report;
      expect(left).toMatchObject({ conversationsOpened: 1, messagesReceived: 1, messagesSent: 1 });
      const arrived = (await server.gql(REPORT, { from: at(0), to: at(7200), teamId: elsewhere.createTeam.id }, r.tenant.token)).data!.report;
      expect(arrived).toMatchObject({ conversationsOpened: 1, messagesReceived: 1, messagesSent: 0 });
    } finally {
      expect((await transfer(teamId)).errors).toBeUndefined();
    }

    // Another tenant's team, or no such team: NOT_FOUND.
    const foreign = await server.gql(`mutation($input: CreateTeamInput!) { createTeam(input: $input) { id } }`, { input: { name: 'Theirs' } }, other.tenant.token);
    expect(errorCode(await server.gql(REPORT, { from: at(0), to: at(7200), teamId: foreign.data!.createTeam.id }, r.tenant.token))).toBe('NOT_FOUND');
    expect(errorCode(await server.gql(REPORT, { from: at(0), to: at(7200), teamId: 'not-an-id' }, r.tenant.token))).toBe('NOT_FOUND');
  });

  it('gives an AGENT their own row only, refuses bad periods, and an empty period is zeros', async () => {
    const mine = (await server.gql(REPORT, { from: at(0), to: at(7200) }, a2.token)).data!.report;
    expect(mine.byAgent.map((x: any) => x.agent.id)).toEqual([a2.id]);
    expect(mine.conversationsOpened).toBe(3);

    expect(errorCode(await server.gql(REPORT, { from: at(10), to: at(0) }, r.tenant.token))).toBe('BAD_USER_INPUT');
    expect(errorCode(await server.gql(REPORT, { from: at(0), to: at(400 * 86_400) }, r.tenant.token))).toBe('BAD_USER_INPUT');
    expect(errorCode(await server.gql(REPORT, { from: at(0), to: at(10) }, null))).toBe('UNAUTHENTICATED');

    const empty = (await server.gql(REPORT, { from: at(-10 * 86_400), to: at(-9 * 86_400) }, r.tenant.token)).data!.report;
    expect(empty).toMatchObject({ conversationsOpened: 0, conversationsResolved: 0, messagesReceived: 0, messagesSent: 0, medianFirstResponseSeconds: null, medianResolutionSeconds: null });
  });
});
