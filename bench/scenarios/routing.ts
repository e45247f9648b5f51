/**
 * 8. Routing cost (issue 10): server CPU per inbound webhook with automatic assignment on vs off,
 * in the same run. Two sets of tenants seeded alike; in the "on" set each number routes to a
 * ROUND_ROBIN team with two ONLINE agents (capacity 10,000, never reached) and an OFFLINE one, in
 * the "off" set the numbers have no team. Every webhook comes from a new sender, so each one opens
 * a conversation and (on) runs the whole routing path: guards, a pass under row locks, the
 * assignment event, the onQueued check. Runs alternate in ABBA order (off, on, on, off, ...) at the
 * saturation concurrency; the server process's CPU time (/proc, user + system) is read around each run plus
 * the wait until every conversation of the run is assigned (routing runs after the answer), so
 * work left after the last answer is counted. Other sessions on the machine do not add to the
 * server's own CPU time, but they do slow it (cache, frequency): compare the two arms, not runs.
 */
import { loadLine, runLoad, type Ctx } from '../lib/context.js';
import { gqlOk } from '../lib/gql.js';
import { postgresCpuMs, processCpuSplitMs } from '../lib/cpu.js';
import { createAgents, seedTenants, type Tenant } from '../lib/seed.js';
import { fmt } from '../lib/stats.js';
import { prepareWebhooks, writeRequests } from '../lib/webhooks.js';
import { serverMetric } from '../lib/server.js';

const S = '10 routing';
/** Issue 10: routing adds no more than 10% to ingest CPU per webhook. */
const TARGET = 1.1;

export async function routingScenario(ctx: Ctx): Promise<void> {
  const { report, quick } = ctx;
  if (!ctx.webhooksWork || !ctx.features.mutations.has('createTeam')) {
    report.add({ scenario: S, metric: 'routing on vs off', value: 'not available yet', verdict: 'SKIP' });
    return;
  }
  const tenantsPerArm = quick ? 6 : 20;
  const perRun = quick ? 600 : 4000;
  // Eight rounds per arm: one run of 4,000 webhooks varies by ±10% of server CPU from the next
  // (garbage collection, the JIT, the machine), as much as the effect measured; over eight the
  // ratio of the sums settled within a few percent across runs of the bench.
  const rounds = quick ? 2 : Number(process.env.BENCH_ROUTING_ROUNDS ?? 8);
  const url = ctx.server.graphqlUrl;

  ctx.log(`routing: seeding ${tenantsPerArm} tenants without routing and ${tenantsPerArm} with a team`);
  const off = await seedTenants(url, ctx.fake, tenantsPerArm, ctx.runId, { offset: 40_000, label: 'Routing off' });
  const on = await seedTenants(url, ctx.fake, tenantsPerArm, ctx.runId, { offset: 41_000, label: 'Routing on' });
  for (const t of on) await teamWithOnlineAgents(url, t, ctx.runId);

  let senderOffset = 50_000_000;
  const run = async (arm: 'off' | 'on', tenants: Tenant[], round: number) => {
    const phase = `routing-${arm}-${round}`;
    const prepared = prepareWebhooks(tenants, perRun, { phase, sendersPerTenant: perRun, distinctSenders: true, senderOffset });
    senderOffset += perRun;
    const file = writeRequests(ctx.tmp, phase, prepared.requests);
    const measure = async () => {
      // The counter's own request stays outside the CPU window.
      const statements0 = await serverMetric(ctx.server.origin, 'db_statements_total');
      const cpu0 = processCpuSplitMs(ctx.server.pid);
      const pg0 = postgresCpuMs();
      const load = await runLoad({ origin: ctx.server.origin, requestsFile: file, amount: perRun, connections: ctx.sizes.saturationConnections });
      const settled = await settle(ctx, tenants, arm === 'on');
      const cpu1 = processCpuSplitMs(ctx.server.pid);
      const userMs = cpu1.user - cpu0.user;
      const systemMs = cpu1.system - cpu0.system;
      const serverMs = userMs + systemMs;
      const postgresMs = postgresCpuMs() - pg0;
      const statements = (await serverMetric(ctx.server.origin, 'db_statements_total')) - statements0;
      return { load, settled, serverMs, userMs, systemMs, postgresMs, statements };
    };
    // Scored runs only in the profiles (--profile): one per arm and round.
    const { load, settled, serverMs, userMs, systemMs, postgresMs, statements } = round < 0 ? await measure() : await ctx.profiler.around(phase, measure);
    report.detail(S, loadLine(`${arm}, round ${round + 1}: ${perRun} webhooks, each opening a conversation`, load));
    report.detail(S, `${arm}, round ${round + 1}: server CPU ${fmt(serverMs / Math.max(1, load.ok2xx), 3)} ms per webhook (user ${fmt(userMs / Math.max(1, load.ok2xx), 3)} + system ${fmt(systemMs / Math.max(1, load.ok2xx), 3)}; ${fmt(serverMs)} ms for ${load.ok2xx} answered 2xx); Postgres CPU ${fmt(postgresMs / Math.max(1, load.ok2xx), 3)} ms per webhook; ${fmt(statements / Math.max(1, load.ok2xx), 3)} statements per webhook${settled ? '' : '; NOT every conversation was assigned within 120 s'}`);
    return { serverMs, postgresMs, ok: load.ok2xx, failed: load.non2xx + load.errors, settled };
  };

  // A warm-up of each arm (JIT, pools, caches), not scored.
  ctx.log('routing: warm-up');
  await run('off', off, -1);
  await run('on', on, -1);

  const totals = { off: { ms: 0, pgMs: 0, ok: 0, failed: 0 }, on: { ms: 0, pgMs: 0, ok: 0, failed: 0 } };
  /** Server CPU per webhook of each arm, round by round: the spread of the pairs' ratios. */
  const perRound = { off: [] as number[], on: [] as number[] };
  let allSettled = true;
  // ABBA order (off, on, on, off, ...): each arm runs as often early as late, so what drifts over
  // the run (JIT warming, tables and indexes growing, autovacuum) weighs on both alike.
  const order = Array.from({ length: rounds }, (_, round) => (round % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)));
  for (let round = 0; round < rounds; round++) {
    for (const arm of order[round]!) {
      const tenants = arm === 'off' ? off : on;
      ctx.log(`routing: ${arm}, round ${round + 1}/${rounds}`);
      const r = await run(arm, tenants, round);
      totals[arm].ms += r.serverMs;
      totals[arm].pgMs += r.postgresMs;
      perRound[arm].push(r.serverMs / Math.max(1, r.ok));
      totals[arm].ok += r.ok;
      totals[arm].failed += r.failed;
      allSettled &&= r.settled;
    }
  }
  const offPer = totals.off.ms / Math.max(1, totals.off.ok);
  const onPer = totals.on.ms / Math.max(1, totals.on.ok);
  const ratio = onPer / offPer;
  const [assigned] = await ctx.db.sql<{ assigned: number; total: number }[]>`
    select count(*) filter (where assignee_id is not null)::int as assigned, count(*)::int as total
    from conversations where tenant_id = any(${on.map((t) => t.tenantId)}::uuid[])`;

  report.add({
    scenario: S,
    metric: 'server CPU per webhook opening a conversation: routing off / on (ms)',
    value: `${fmt(offPer, 3)} / ${fmt(onPer, 3)}`,
  });
  report.add({
    scenario: S,
    metric: 'routing on / off, server CPU per webhook',
    value: `${(ratio * 100).toFixed(0)}% (${signed(ratio)})`,
    target: '≤ 110%',
    verdict: ratio <= TARGET ? 'PASS' : 'MISS',
  });
  // How far one round's pair (the arms run back to back) strays: the noise the sums average out.
  const pairs = perRound.on.map((on, i) => on / perRound.off[i]!).sort((a, b) => a - b);
  if (pairs.length > 0) {
    report.add({
      scenario: S,
      metric: `the same, round by round (${pairs.length} pairs): median [min, max]`,
      value: `${(pairs[Math.floor(pairs.length / 2)]! * 100).toFixed(0)}% [${(pairs[0]! * 100).toFixed(0)}%, ${(pairs[pairs.length - 1]! * 100).toFixed(0)}%]`,
    });
  }
  // The database's side, for the record (the target is the server's): the assignment UPDATE
  // (every index of conversations, two foreign-key checks), the queue and load reads.
  const pgOff = totals.off.pgMs / Math.max(1, totals.off.ok);
  const pgOn = totals.on.pgMs / Math.max(1, totals.on.ok);
  report.add({
    scenario: S,
    metric: 'Postgres CPU per webhook: routing off / on (ms); server + Postgres on / off',
    value: `${fmt(pgOff, 3)} / ${fmt(pgOn, 3)}; ${signed((onPer + pgOn) / (offPer + pgOff))}`,
  });
  const complete = allSettled && assigned !== undefined && assigned.assigned === assigned.total && totals.on.failed === 0 && totals.off.failed === 0;
  report.add({
    scenario: S,
    metric: 'routed conversations assigned / opened (on); non-2xx',
    value: `${assigned?.assigned ?? 0} / ${assigned?.total ?? 0}; ${totals.off.failed + totals.on.failed}`,
    target: 'all assigned, none refused',
    verdict: complete ? 'OK' : 'FAIL',
  });
  ctx.metrics.routingCpuRatio = ratio;
}

/** A ratio as a signed change: 1.058 → '+5.8%'. */
function signed(ratio: number): string {
  const pct = (ratio - 1) * 100;
  return `${pct >= 0 ? '+' : ''}${pct.toFixed(1)}%`;
}

/** A ROUND_ROBIN team on the tenant's number: the seeded agent and one more ONLINE, a third OFFLINE. */
async function teamWithOnlineAgents(url: string, t: Tenant, runId: string): Promise<void> {
  const [offline] = await createAgents(url, t.adminToken, 1, runId);
  const second = await gqlOk<{ createAgent: { id: string } }>(
    url,
    `mutation($input: CreateAgentInput!) { createAgent(input: $input) { id } }`,
    { input: { email: `agent2-${runId}-${t.index}@bench.example.com`, name: 'Second Agent', password: 'bench password 1', role: 'AGENT' } },
    t.adminToken,
  );
  const slug = await gqlOk<{ me: { tenant: { slug: string } } }>(url, `query { me { tenant { slug } } }`, {}, t.adminToken);
  const login = await gqlOk<{ logIn: { token: string } }>(
    url,
    `mutation($input: LogInInput!) { logIn(input: $input) { token } }`,
    { input: { email: `agent2-${runId}-${t.index}@bench.example.com`, password: 'bench password 1', tenantSlug: slug.me.tenant.slug } },
  );
  const team = await gqlOk<{ createTeam: { id: string } }>(
    url,
    `mutation($input: CreateTeamInput!) { createTeam(input: $input) { id } }`,
    { input: { name: 'Front desk', strategy: 'ROUND_ROBIN', agentCapacity: 10_000, memberIds: [t.agentId, second.createAgent.id, offline] } },
    t.adminToken,
  );
  for (const token of [t.agentToken, login.logIn.token]) {
    await gqlOk(url, `mutation { setAvailability(availability: ONLINE) { id } }`, {}, token);
  }
  await gqlOk(
    url,
    `mutation($id: ID!, $input: UpdatePhoneNumberInput!) { updatePhoneNumber(id: $id, input: $input) { id } }`,
    { id: t.numberId, input: { teamId: team.createTeam.id } },
    t.adminToken,
  );
}

/**
 * Until every live conversation of the routed tenants has an assignee (routing runs after the
 * webhook's answer), then a short tail for the work that follows (events, automations), the same
 * for both arms. Polled from the harness's own connection: no server CPU.
 */
async function settle(ctx: Ctx, tenants: Tenant[], routed: boolean): Promise<boolean> {
  const ids = tenants.map((t) => t.tenantId);
  let ok = true;
  if (routed) {
    ok = false;
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const [row] = await ctx.db.sql<{ n: number }[]>`
        select count(*)::int as n from conversations where tenant_id = any(${ids}::uuid[]) and assignee_id is null and status <> 'RESOLVED'`;
      if (row?.n === 0) {
        ok = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  await new Promise((r) => setTimeout(r, 300));
  return ok;
}
