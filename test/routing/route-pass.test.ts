import 'reflect-metadata';
import { eq, inArray } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.js';
import { FIXTURE } from '../../src/db/query-catalog.js';
import { agentPresence, contacts, conversations, teamMembers, teams, users } from '../../src/db/schema.js';
import { ConversationStatus } from '../../src/modules/conversations/conversation-status.js';
import { Availability } from '../../src/modules/routing/availability.js';
import { routeTeams } from '../../src/modules/routing/routing.repository.js';
import { pickAssignee, type Candidate } from '../../src/modules/routing/strategy.js';
import { AssignmentStrategy } from '../../src/modules/teams/assignment-strategy.js';
import { Role } from '../../src/modules/users/role.js';
import { openSnapshotDatabase } from '../queries/capture.js';

/**
 * The routing choice runs inside the database (route_pass, migration 0020_routing_pass_sql);
 * strategy.ts states its rules. For random teams (strategy, capacity, members ONLINE or not, their
 * live loads and turns) and queues (some of them reopened threads with a previous assignee, a
 * member or not), one pass must assign exactly what pickAssignee, applied conversation after
 * conversation oldest first, would: same agents, same order, same conversations left waiting.
 */
const member = fc.record({
  online: fc.boolean(),
  load: fc.integer({ min: 0, max: 3 }),
  /** Seconds after a fixed time this team last assigned them one; null: never. */
  turn: fc.option(fc.integer({ min: 0, max: 4 }), { nil: null }),
});
const scenario = fc.record({
  strategy: fc.constantFrom(AssignmentStrategy.ROUND_ROBIN, AssignmentStrategy.LEAST_BUSY),
  capacity: fc.option(fc.integer({ min: 1, max: 5 }), { nil: null }),
  members: fc.array(member, { minLength: 1, maxLength: 4 }),
  /** Per waiting conversation: the index of its thread's previous assignee (past the members: someone else), or null. */
  waiting: fc.array(fc.option(fc.integer({ min: 0, max: 4 }), { nil: null }), { maxLength: 10 }),
});
type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

const BASE = Date.UTC(2024, 0, 1);
const tenantId = FIXTURE.tenantId;

let snapshot: Awaited<ReturnType<typeof openSnapshotDatabase>>;
let db: Db;
beforeAll(async () => {
  snapshot = await openSnapshotDatabase();
  db = snapshot.db;
}, 120_000);
afterAll(async () => snapshot?.close());

let run = 0;
async function check(s: Scenario): Promise<void> {
  run += 1;
  const tag = `p${run}`;
  const userRows = await db
    .insert(users)
    .values(s.members.map((_, i) => ({ tenantId, email: `${tag}-${i}@example.com`, name: `M${i}`, role: Role.AGENT, passwordHash: 'x' })))
    .returning({ id: users.id });
  const memberIds = userRows.map((u) => u.id);
  const [team] = await db
    .insert(teams)
    .values({ tenantId, name: `Team ${tag}`, strategy: s.strategy, agentCapacity: s.capacity })
    .returning({ id: teams.id });
  const teamId = team!.id;
  await db.insert(teamMembers).values(
    s.members.map((m, i) => ({ tenantId, teamId, userId: memberIds[i]!, lastAssignedAt: m.turn === null ? null : new Date(BASE + m.turn * 1000) })),
  );
  await db
    .insert(agentPresence)
    .values(s.members.map((m, i) => ({ tenantId, userId: memberIds[i]!, availability: m.online ? Availability.ONLINE : Availability.AWAY })));

  let phone = 0;
  const newContact = async () =>
    (await db.insert(contacts).values({ tenantId, phoneNumber: `+1666${String(run).padStart(3, '0')}${String(phone++).padStart(4, '0')}` }).returning({ id: contacts.id }))[0]!.id;
  const contactIds: string[] = [];
  // Live loads: conversations of no team assigned to the members (capacity counts them all).
  for (const [i, m] of s.members.entries()) {
    for (let k = 0; k < m.load; k++) {
      const contactId = await newContact();
      contactIds.push(contactId);
      await db.insert(conversations).values({ tenantId, phoneNumberId: FIXTURE.phoneNumberId, contactId, assigneeId: memberIds[i]!, status: ConversationStatus.PENDING });
    }
  }
  // The queue, oldest first; a reopened thread has a RESOLVED earlier conversation with its assignee.
  const waitingIds: string[] = [];
  for (const [k, previous] of s.waiting.entries()) {
    const contactId = await newContact();
    contactIds.push(contactId);
    const previousId = previous === null ? null : (memberIds[previous] ?? FIXTURE.userId);
    if (previousId) {
      await db.insert(conversations).values({
        tenantId, phoneNumberId: FIXTURE.phoneNumberId, contactId, assigneeId: previousId, status: ConversationStatus.RESOLVED,
        createdAt: new Date(BASE - 3600_000),
      });
    }
    const [row] = await db
      .insert(conversations)
      .values({ tenantId, phoneNumberId: FIXTURE.phoneNumberId, contactId, teamId, routeAfter: new Date(BASE), queuedAt: new Date(BASE + k) })
      .returning({ id: conversations.id });
    waitingIds.push(row!.id);
  }

  // What the rules say.
  const candidates: Candidate[] = s.members
    .map((m, i) => ({ m, userId: memberIds[i]! }))
    .filter(({ m }) => m.online)
    .map(({ m, userId }) => ({ userId, load: m.load, turn: m.turn === null ? '' : new Date(BASE + m.turn * 1000).toISOString() }));
  const expected: Array<string | null> = [];
  for (const [k, previous] of s.waiting.entries()) {
    const previousId = previous === null ? null : (memberIds[previous] ?? FIXTURE.userId);
    const chosen = pickAssignee(s.strategy, candidates, s.capacity ?? Number.POSITIVE_INFINITY, previousId);
    if (!chosen) {
      // Nobody below capacity: the rest waits.
      expected.push(...s.waiting.slice(k).map(() => null));
      break;
    }
    chosen.load += 1;
    chosen.turn = `~${String(k).padStart(6, '0')}`;
    expected.push(chosen.userId);
  }

  // What one pass did.
  const done = await routeTeams(db, [{ tenantId, teamId, checked: [] }]);
  const passOrder = done.flatMap((d) => d.assignments);
  const rows = waitingIds.length === 0 ? [] : await db.select({ id: conversations.id, assigneeId: conversations.assigneeId }).from(conversations).where(inArray(conversations.id, waitingIds));
  const assigned = new Map(rows.map((r) => [r.id, r.assigneeId]));
  try {
    expect(waitingIds.map((id) => assigned.get(id) ?? null)).toEqual(expected);
    // Returned in pass order, oldest first, and only what was stored.
    expect(passOrder).toEqual(waitingIds.filter((id) => assigned.get(id)).map((id) => ({ conversationId: id, assigneeId: assigned.get(id) })));
  } finally {
    await db.delete(conversations).where(inArray(conversations.contactId, contactIds.length ? contactIds : [FIXTURE.newId]));
    if (contactIds.length) await db.delete(contacts).where(inArray(contacts.id, contactIds));
    await db.delete(teams).where(eq(teams.id, teamId));
    await db.delete(users).where(inArray(users.id, memberIds));
  }
}

describe('route_pass (the pass in the database) against the rules of strategy.ts', () => {
  it('assigns what pickAssignee would, for random teams, loads, turns, availability and reopened threads', async () => {
    await fc.assert(fc.asyncProperty(scenario, check), { numRuns: Number(process.env.ROUTE_PASS_RUNS ?? 60) });
  }, 300_000);

  it('examples: round robin in turn, least busy by load, a previous assignee back while eligible', async () => {
    const none = { online: true, load: 0, turn: null };
    await check({ strategy: AssignmentStrategy.ROUND_ROBIN, capacity: 2, members: [{ ...none, turn: 2 }, none, { ...none, turn: 1 }], waiting: [null, null, null, null, null, null, null] });
    await check({ strategy: AssignmentStrategy.LEAST_BUSY, capacity: null, members: [{ ...none, load: 2 }, { ...none, load: 0, turn: 1 }, { ...none, load: 1 }], waiting: [null, null, null] });
    await check({ strategy: AssignmentStrategy.ROUND_ROBIN, capacity: 5, members: [none, { ...none, load: 5 }, { ...none, online: false }], waiting: [1, 2, 0, 4, null] });
  }, 120_000);
});
