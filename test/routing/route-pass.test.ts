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
 * The routing choice runs inside the database (route_pass, migrations 0020_routing_pass_sql and
 * 0021_routing_pass_by_key); strategy.ts states its rules. For random passes over one or two teams
 * (strategy, capacity, members ONLINE or not, their live loads, shared by the teams they are in,
 * and their turns) and queues (some of them reopened threads with a previous assignee, a member or
 * not), one pass must assign exactly what pickAssignee, applied conversation after conversation,
 * team after team, oldest first, would: same agents, same order, same conversations left waiting.
 */
/** An agent of the tenant: ONLINE or not, and their live load (conversations of no team assigned to them). */
const agent = fc.record({
  online: fc.boolean(),
  load: fc.integer({ min: 0, max: 3 }),
});
/** Per agent: not a member (null), or a member whose turn is seconds after a fixed time that this team last assigned them one (null: never). */
const membership = fc.option(fc.record({ turn: fc.option(fc.integer({ min: 0, max: 4 }), { nil: null }) }), { nil: null });
const team = fc.record({
  strategy: fc.constantFrom(AssignmentStrategy.ROUND_ROBIN, AssignmentStrategy.LEAST_BUSY),
  capacity: fc.option(fc.integer({ min: 1, max: 5 }), { nil: null }),
  members: fc.array(membership, { minLength: 4, maxLength: 4 }),
  /** Per waiting conversation: the index of its thread's previous assignee (past the agents: someone else), or null. */
  waiting: fc.array(fc.option(fc.integer({ min: 0, max: 4 }), { nil: null }), { maxLength: 8 }),
});
/** One pass over one or two teams of a tenant; an agent in both teams has one load across them. */
const scenario = fc.record({
  agents: fc.array(agent, { minLength: 1, maxLength: 4 }),
  teams: fc.array(team, { minLength: 1, maxLength: 2 }),
});
type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;
type OneTeam = { strategy: AssignmentStrategy.ROUND_ROBIN | AssignmentStrategy.LEAST_BUSY; capacity: number | null; members: Array<{ online: boolean; load: number; turn: number | null }>; waiting: Array<number | null> };

/** A one-team scenario whose members are all its tenant's agents. */
function oneTeam(t: OneTeam): Scenario {
  return {
    agents: t.members.map(({ online, load }) => ({ online, load })),
    teams: [{ strategy: t.strategy, capacity: t.capacity, members: t.members.map(({ turn }) => ({ turn })), waiting: t.waiting }],
  };
}

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
    .values(s.agents.map((_, i) => ({ tenantId, email: `${tag}-${i}@example.com`, name: `M${i}`, role: Role.AGENT, passwordHash: 'x' })))
    .returning({ id: users.id });
  const agentIds = userRows.map((u) => u.id);
  const teamRows = await db
    .insert(teams)
    .values(s.teams.map((t, k) => ({ tenantId, name: `Team ${tag}-${k}`, strategy: t.strategy, agentCapacity: t.capacity })))
    .returning({ id: teams.id });
  const teamIds = teamRows.map((t) => t.id);
  const memberRows = s.teams.flatMap((t, k) =>
    t.members.flatMap((m, i) =>
      m === null || i >= agentIds.length
        ? []
        : [{ tenantId, teamId: teamIds[k]!, userId: agentIds[i]!, lastAssignedAt: m.turn === null ? null : new Date(BASE + m.turn * 1000) }],
    ),
  );
  if (memberRows.length > 0) await db.insert(teamMembers).values(memberRows);
  await db
    .insert(agentPresence)
    .values(s.agents.map((a, i) => ({ tenantId, userId: agentIds[i]!, availability: a.online ? Availability.ONLINE : Availability.AWAY })));

  let phone = 0;
  const newContact = async () =>
    (await db.insert(contacts).values({ tenantId, phoneNumber: `+1666${String(run).padStart(3, '0')}${String(phone++).padStart(4, '0')}` }).returning({ id: contacts.id }))[0]!.id;
  const contactIds: string[] = [];
  // Live loads: conversations of no team assigned to the agents (capacity counts them all).
  for (const [i, a] of s.agents.entries()) {
    for (let n = 0; n < a.load; n++) {
      const contactId = await newContact();
      contactIds.push(contactId);
      await db.insert(conversations).values({ tenantId, phoneNumberId: FIXTURE.phoneNumberId, contactId, assigneeId: agentIds[i]!, status: ConversationStatus.PENDING });
    }
  }
  // Each team's queue, oldest first; a reopened thread has a RESOLVED earlier conversation with its assignee.
  const previousOf = (previous: number | null) => (previous === null ? null : (agentIds[previous] ?? FIXTURE.userId));
  const waitingIds: string[][] = [];
  for (const [k, t] of s.teams.entries()) {
    const ids: string[] = [];
    for (const [n, previous] of t.waiting.entries()) {
      const contactId = await newContact();
      contactIds.push(contactId);
      const previousId = previousOf(previous);
      if (previousId) {
        await db.insert(conversations).values({
          tenantId, phoneNumberId: FIXTURE.phoneNumberId, contactId, assigneeId: previousId, status: ConversationStatus.RESOLVED,
          createdAt: new Date(BASE - 3600_000),
        });
      }
      const [row] = await db
        .insert(conversations)
        .values({ tenantId, phoneNumberId: FIXTURE.phoneNumberId, contactId, teamId: teamIds[k]!, routeAfter: new Date(BASE), queuedAt: new Date(BASE + n) })
        .returning({ id: conversations.id });
      ids.push(row!.id);
    }
    waitingIds.push(ids);
  }

  // What the rules say: the teams in the pass's order (by id), each queue oldest first, pickAssignee
  // for each conversation; an agent's load is shared by their teams, a turn is per team.
  const loads = new Map(s.agents.map((a, i) => [agentIds[i]!, a.load]));
  const turns = new Map(memberRows.map((m) => [`${m.teamId}:${m.userId}`, m.lastAssignedAt ? m.lastAssignedAt.toISOString() : '']));
  const expected = new Map<string, string | null>();
  let seq = 0;
  const passOrder = s.teams.map((_, k) => k).sort((x, y) => (teamIds[x]! < teamIds[y]! ? -1 : 1));
  for (const k of passOrder) {
    const t = s.teams[k]!;
    const teamId = teamIds[k]!;
    const members = memberRows.filter((m) => m.teamId === teamId && s.agents[agentIds.indexOf(m.userId)]!.online).map((m) => m.userId);
    let full = false;
    for (const [n, previous] of t.waiting.entries()) {
      const id = waitingIds[k]![n]!;
      const candidates: Candidate[] = members.map((userId) => ({ userId, load: loads.get(userId)!, turn: turns.get(`${teamId}:${userId}`)! }));
      const chosen = full ? null : pickAssignee(t.strategy, candidates, t.capacity ?? Number.POSITIVE_INFINITY, previousOf(previous));
      if (!chosen) {
        // Nobody below capacity: the rest of this team's queue waits.
        full = true;
        expected.set(id, null);
        continue;
      }
      loads.set(chosen.userId, chosen.load + 1);
      turns.set(`${teamId}:${chosen.userId}`, `~${String(seq++).padStart(6, '0')}`);
      expected.set(id, chosen.userId);
    }
  }

  // What one pass did.
  const done = await routeTeams(db, teamIds.map((teamId) => ({ tenantId, teamId, checked: [] })));
  const allWaiting = passOrder.flatMap((k) => waitingIds[k]!);
  const rows = allWaiting.length === 0 ? [] : await db.select({ id: conversations.id, assigneeId: conversations.assigneeId }).from(conversations).where(inArray(conversations.id, allWaiting));
  const assigned = new Map(rows.map((r) => [r.id, r.assigneeId]));
  try {
    expect(allWaiting.map((id) => assigned.get(id) ?? null)).toEqual(allWaiting.map((id) => expected.get(id) ?? null));
    // Returned in pass order (teams by id, each oldest first), and only what was stored.
    expect(done.flatMap((d) => d.assignments)).toEqual(allWaiting.filter((id) => assigned.get(id)).map((id) => ({ conversationId: id, assigneeId: assigned.get(id) })));
  } finally {
    await db.delete(conversations).where(inArray(conversations.contactId, contactIds.length ? contactIds : [FIXTURE.newId]));
    if (contactIds.length) await db.delete(contacts).where(inArray(contacts.id, contactIds));
    await db.delete(teams).where(inArray(teams.id, teamIds));
    await db.delete(users).where(inArray(users.id, agentIds));
  }
}

describe('route_pass (the pass in the database) against the rules of strategy.ts', () => {
  it('assigns what pickAssignee would, for random teams (one or two sharing agents), loads, turns, availability and reopened threads', async () => {
    await fc.assert(fc.asyncProperty(scenario, check), { numRuns: Number(process.env.ROUTE_PASS_RUNS ?? 60) });
  }, 300_000);

  it('examples: round robin in turn, least busy by load, a previous assignee back while eligible', async () => {
    const none = { online: true, load: 0, turn: null };
    await check(oneTeam({ strategy: AssignmentStrategy.ROUND_ROBIN, capacity: 2, members: [{ ...none, turn: 2 }, none, { ...none, turn: 1 }], waiting: [null, null, null, null, null, null, null] }));
    await check(oneTeam({ strategy: AssignmentStrategy.LEAST_BUSY, capacity: null, members: [{ ...none, load: 2 }, { ...none, load: 0, turn: 1 }, { ...none, load: 1 }], waiting: [null, null, null] }));
    await check(oneTeam({ strategy: AssignmentStrategy.ROUND_ROBIN, capacity: 5, members: [none, { ...none, load: 5 }, { ...none, online: false }], waiting: [1, 2, 0, 4, null] }));
    // Two teams sharing an agent: the first team's assignments count against the second's capacity.
    await check({
      agents: [{ online: true, load: 0 }, { online: true, load: 1 }],
      teams: [
        { strategy: AssignmentStrategy.ROUND_ROBIN, capacity: 2, members: [{ turn: null }, { turn: null }, null, null], waiting: [null, null, null] },
        { strategy: AssignmentStrategy.LEAST_BUSY, capacity: 2, members: [{ turn: 1 }, null, null, null], waiting: [null, null] },
      ],
    });
  }, 120_000);
});
