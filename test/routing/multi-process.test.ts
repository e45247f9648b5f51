import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboundSmsParams } from '../helpers/fake-twilio.js';
import { randomUsNumber } from '../helpers/inbox.js';
import { usingPostgres } from '../helpers/test-db.js';
import { startTwoProcesses, type TwoProcesses } from '../helpers/two-processes.js';
import { waitFor } from '../helpers/wait.js';
import { createTeam, listConversations, must, setAvailability, tally } from './routing-setup.js';

/**
 * Two server processes on one Postgres: conversations opened at once through both are routed by
 * both, and capacity and single assignment still hold (the locks are in the database). Then a
 * process started on conversations left waiting routes them at start.
 */
describe.skipIf(!usingPostgres)('routing with two server processes on one Postgres (TEST_DATABASE_URL)', () => {
  let set: TwoProcesses;

  beforeAll(async () => {
    // No periodic sweep: the processes' own triggers do the work.
    set = await startTwoProcesses({ tenantName: 'Two Instances', env: { DISPATCHER_ENABLED: 'false', ROUTING_SWEEP_INTERVAL_MS: '3600000' } });
  }, 240_000);

  afterAll(async () => {
    await set?.stop();
  });

  async function teamOfThree(capacity: number) {
    const { one, two, token: admin, tenantSlug } = set;
    const members: Array<{ id: string; token: string }> = [];
    for (let i = 0; i < 3; i++) {
      const email = `agent-${i}-${Math.random().toString(36).slice(2)}@example.com`;
      const created = await one.gql(`mutation($input: CreateAgentInput!) { createAgent(input: $input) { id } }`, {
        input: { email, name: `Agent ${i}`, password: 'agent password 1', role: 'AGENT' },
      }, admin);
      // Agents log in with their workspace's slug.
      const login = await two.gql(`mutation($input: LogInInput!) { logIn(input: $input) { token } }`, { input: { email, password: 'agent password 1', tenantSlug } });
      members.push({ id: must(created, 'createAgent').createAgent.id, token: must(login, 'logIn').logIn.token });
    }
    const team = await createTeam(one, admin, { strategy: 'ROUND_ROBIN', agentCapacity: capacity, memberIds: members.map((m) => m.id) });
    for (const [i, m] of members.entries()) await setAvailability(i % 2 ? one : two, m.token, 'ONLINE');
    return { members, team, number: await set.addNumber({ teamId: team.id }) };
  }

  /** `n` customers text at once, alternately through each process. */
  async function openAtOnce(to: string, n: number): Promise<void> {
    const responses = await Promise.all(
      Array.from({ length: n }, (_, i) => {
        const { account } = set;
        const params = inboundSmsParams({ accountSid: account.accountSid, from: randomUsNumber('650'), to, body: `hello ${i}` });
        return (i % 2 ? set.one : set.two).postSigned(account.inboundWebhookUrl, account.authToken, params);
      }),
    );
    for (const r of responses) expect(r.status).toBe(200);
  }

  it('50 opened at once through both processes on capacity 20 end 17/17/16, none lost or assigned twice', async () => {
    const { members, team, number } = await teamOfThree(20);
    await openAtOnce(number.e164, 50);
    const list = await waitFor(
      async () => {
        const l = await listConversations(set.one, set.token, { teamId: team.id });
        return l.length === 50 && l.every((c) => c.assignee) ? l : undefined;
      },
      { timeoutMs: 60_000, what: '50 assigned conversations' },
    );
    const { perAgent, unassigned } = tally(list, members.map((m) => m.id));
    expect(unassigned).toBe(0);
    expect([...perAgent].sort()).toEqual([16, 17, 17]);
  }, 120_000);

  it('40 opened at once through both processes on capacity 10 leave exactly 10 each and 10 waiting', async () => {
    const { members, team, number } = await teamOfThree(10);
    await openAtOnce(number.e164, 40);
    const list = await waitFor(
      async () => {
        const l = await listConversations(set.two, set.token, { teamId: team.id });
        return l.length === 40 && l.filter((c) => c.assignee).length >= 30 ? l : undefined;
      },
      { timeoutMs: 60_000, what: '30 assigned conversations' },
    );
    expect(tally(list, members.map((m) => m.id))).toEqual({ perAgent: [10, 10, 10], unassigned: 10 });

    // Nothing waiting is routed by a process that starts later, since no one has capacity; once
    // capacity frees with both processes stopped, a process starting routes it at start.
    await set.restart(
      () => set.sql`update conversations set status = 'RESOLVED' where assignee_id = ${members[0]!.id}::uuid and team_id = ${team.id}::uuid
        and id in (select id from conversations where assignee_id = ${members[0]!.id}::uuid limit 3)`,
    );
    const after = await waitFor(
      async () => {
        const l = await listConversations(set.one, set.token, { teamId: team.id, status: 'OPEN' });
        return l.filter((c) => c.assignee).length >= 30 ? l : undefined;
      },
      { timeoutMs: 30_000, what: 'the start sweep to fill the freed capacity' },
    );
    expect(tally(after, members.map((m) => m.id))).toEqual({ perAgent: [10, 10, 10], unassigned: 7 });
  }, 180_000);
});
