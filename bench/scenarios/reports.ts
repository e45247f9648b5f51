/**
 * 8. Reports (issue 14): `report(from, to)` for a 7-day and a 90-day window (and the 90-day one for
 * a team) over one tenant with 100,000 conversations and about 290,000 messages spread over 90 days
 * (quick: 10,000), seeded with set-based SQL from closed formulas (`reportSeedStatements`), so the
 * expected figures are computed here by hand from the same formulas and compared with the API's
 * answer before anything is timed. Each window is asked one request at a time (latency without
 * queueing; the machine's 2 cores are shared with Postgres); p50/p99 per window.
 */
import { verdict, type Ctx } from '../lib/context.js';
import { gql } from '../lib/gql.js';
import { seedTenant } from '../lib/seed.js';
import { fmt, summarize } from '../lib/stats.js';
import { drizzle } from 'drizzle-orm/postgres-js';
import type { Db } from '../../src/db/client.js';
import { ReportsRepository } from '../../src/modules/reports/reports.repository.js';

const S = '8 reports';
const DAY = 86_400_000;
/** The seeded period ends here; windows end here too. */
export const REPORT_SEED_END = Date.parse('2024-04-01T00:00:00.000Z');
const SEED_DAYS = 90;

const QUERY = `query Report($from: DateTimeISO!, $to: DateTimeISO!, $teamId: ID) {
  report(from: $from, to: $to, teamId: $teamId) {
    conversationsOpened conversationsResolved messagesReceived messagesSent
    medianFirstResponseSeconds medianResolutionSeconds csatAverage
    byAgent { agent { id } conversationsResolved medianFirstResponseSeconds csatAverage }
  }
}`;

export interface ReportSeed {
  tenantId: string;
  phoneNumberId: string;
  twilioAccountId: string;
  adminId: string;
  agentId: string;
  teamId: string;
  conversations: number;
}

/**
 * Conversation i (1..n), opened at START + i·step:
 * - inbound texts at opening and one second later; first agent reply after 30 + (i·7919 mod 1800) s
 *   unless i mod 10 = 0 (then none), by the agent when i is odd, else the admin (one outbound text);
 * - resolved 600 + (i·104729 mod 86400) s after opening unless i mod 5 = 0, by the admin when
 *   i mod 3 = 0, else the agent; a CSAT rating 1 + (i mod 5) on resolved ones unless i mod 3 = 1;
 * - in the team when i is even.
 */
const formula = {
  opened: (s: ReportSeed, i: number) => REPORT_SEED_END - SEED_DAYS * DAY + Math.floor((i * SEED_DAYS * DAY) / (s.conversations + 1)),
  responseDelayS: (i: number) => (i % 10 === 0 ? null : 30 + ((i * 7919) % 1800)),
  responder: (s: ReportSeed, i: number) => (i % 2 === 1 ? s.agentId : s.adminId),
  resolutionS: (i: number) => (i % 5 === 0 ? null : 600 + ((i * 104729) % 86400)),
  resolver: (s: ReportSeed, i: number) => (i % 3 === 0 ? s.adminId : s.agentId),
  rating: (i: number) => (i % 5 === 0 || i % 3 === 1 ? null : 1 + (i % 5)),
  inTeam: (i: number) => i % 2 === 0,
};

export function reportSeedStatements(s: ReportSeed): string[] {
  const t = uuid(s.tenantId);
  const n = Math.trunc(s.conversations);
  const start = `timestamptz '${new Date(REPORT_SEED_END - SEED_DAYS * DAY).toISOString()}'`;
  // Milliseconds, integer division as in `formula.opened`.
  const opened = `(${start} + ((i::bigint * ${SEED_DAYS * DAY}) / ${n + 1}) * interval '1 millisecond')`;
  return [
    `insert into contacts (tenant_id, phone_number, name, last_activity_at)
     select ${t}, '+1629' || lpad(i::text, 7, '0'), 'Report customer ' || i, ${opened}
     from generate_series(1, ${n}) as i`,
    `insert into conversations (tenant_id, contact_id, phone_number_id, status, unread_count, last_message_at, created_at,
       first_inbound_at, first_response_at, first_responder_id, resolved_at, resolved_by_id, team_id)
     select ${t}, k.id, ${uuid(s.phoneNumberId)}, (case when i % 5 = 0 then 'OPEN' else 'RESOLVED' end)::conversation_status, 0,
       o, o, o,
       case when i % 10 = 0 then null else o + (30 + (i::bigint * 7919) % 1800) * interval '1 second' end,
       case when i % 10 = 0 then null when i % 2 = 1 then ${uuid(s.agentId)} else ${uuid(s.adminId)} end,
       case when i % 5 = 0 then null else o + (600 + (i::bigint * 104729) % 86400) * interval '1 second' end,
       case when i % 5 = 0 then null when i % 3 = 0 then ${uuid(s.adminId)} else ${uuid(s.agentId)} end,
       case when i % 2 = 0 then ${uuid(s.teamId)} else null end
     from (select k.id, substr(k.phone_number, 6)::int as i from contacts k
           where k.tenant_id = ${t} and k.phone_number like '+1629%') k,
       lateral (select (${opened}) as o) x`,
    `insert into messages (tenant_id, conversation_id, twilio_account_id, direction, body, status, segments, created_at, author_id)
     select ${t}, c.id, ${uuid(s.twilioAccountId)}, d.direction::message_direction, 'report seed', d.status::message_status, 1, d.at, d.author
     from conversations c,
       lateral (values ('INBOUND', 'RECEIVED', c.created_at, null::uuid),
                       ('INBOUND', 'RECEIVED', c.created_at + interval '1 second', null::uuid),
                       ('OUTBOUND', 'DELIVERED', c.first_response_at, c.first_responder_id)) as d(direction, status, at, author)
     where c.tenant_id = ${t} and d.at is not null`,
    `insert into csat_surveys (tenant_id, conversation_id, state, resolved_by_id, resolved_at, requested_at, rating, rated_at)
     select ${t}, c.id, 'REQUESTED', c.resolved_by_id, c.resolved_at, c.resolved_at, 1 + i % 5, c.resolved_at + interval '5 minutes'
     from (select c.*, substr(k.phone_number, 6)::int as i from conversations c join contacts k on k.id = c.contact_id
           where c.tenant_id = ${t} and k.phone_number like '+1629%') c
     where c.resolved_at is not null and i % 3 <> 1`,
  ];
}

export interface ExpectedReport {
  conversationsOpened: number;
  conversationsResolved: number;
  messagesReceived: number;
  messagesSent: number;
  medianFirstResponseSeconds: number | null;
  medianResolutionSeconds: number | null;
  csatAverage: number | null;
  byAgent: Record<string, { conversationsResolved: number; medianFirstResponseSeconds: number | null; csatAverage: number | null }>;
}

/** percentile_cont(0.5). */
function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const v = [...values].sort((a, b) => a - b);
  const mid = (v.length - 1) / 2;
  return v[Math.floor(mid)]! + (v[Math.ceil(mid)]! - v[Math.floor(mid)]!) * (mid - Math.floor(mid));
}
const mean = (values: number[]) => (values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length);

/** The report's figures for [from, to), by hand from the seed's formulas. */
export function expectedReport(s: ReportSeed, from: number, to: number, teamOnly: boolean): ExpectedReport {
  const inRange = (at: number) => at >= from && at < to;
  let opened = 0;
  let received = 0;
  let sent = 0;
  const responses: number[] = [];
  const resolutions: number[] = [];
  const ratings: number[] = [];
  const agents = new Map<string, { resolved: number; responses: number[]; ratings: number[] }>();
  const agent = (id: string) => agents.get(id) ?? agents.set(id, { resolved: 0, responses: [], ratings: [] }).get(id)!;
  for (let i = 1; i <= s.conversations; i++) {
    if (teamOnly && !formula.inTeam(i)) continue;
    const o = formula.opened(s, i);
    const delay = formula.responseDelayS(i);
    if (inRange(o)) {
      opened++;
      if (delay !== null) {
        responses.push(delay);
        agent(formula.responder(s, i)).responses.push(delay);
      }
    }
    received += (inRange(o) ? 1 : 0) + (inRange(o + 1000) ? 1 : 0);
    if (delay !== null && inRange(o + delay * 1000)) sent++;
    const resolution = formula.resolutionS(i);
    if (resolution !== null && inRange(o + resolution * 1000)) {
      resolutions.push(resolution);
      const by = agent(formula.resolver(s, i));
      by.resolved++;
      const rating = formula.rating(i);
      if (rating !== null) {
        ratings.push(rating);
        by.ratings.push(rating);
      }
    }
  }
  return {
    conversationsOpened: opened,
    conversationsResolved: resolutions.length,
    messagesReceived: received,
    messagesSent: sent,
    medianFirstResponseSeconds: median(responses),
    medianResolutionSeconds: median(resolutions),
    csatAverage: mean(ratings),
    byAgent: Object.fromEntries(
      [...agents].map(([id, a]) => [id, { conversationsResolved: a.resolved, medianFirstResponseSeconds: median(a.responses), csatAverage: mean(a.ratings) }]),
    ),
  };
}

interface ReportAnswer extends Omit<ExpectedReport, 'byAgent'> {
  byAgent: Array<{ agent: { id: string }; conversationsResolved: number; medianFirstResponseSeconds: number | null; csatAverage: number | null }>;
}

/** Differences between the API's answer and the expected figures (empty: equal). */
function differences(got: ReportAnswer, want: ExpectedReport): string[] {
  const close = (a: number | null, b: number | null) => (a === null || b === null ? a === b : Math.abs(a - b) < 1e-6);
  const out: string[] = [];
  for (const k of ['conversationsOpened', 'conversationsResolved', 'messagesReceived', 'messagesSent', 'medianFirstResponseSeconds', 'medianResolutionSeconds', 'csatAverage'] as const) {
    if (!close(got[k], want[k])) out.push(`${k} ${got[k]} ≠ ${want[k]}`);
  }
  for (const [id, w] of Object.entries(want.byAgent)) {
    const g = got.byAgent.find((a) => a.agent.id === id);
    if (!g) out.push(`no row for ${id}`);
    else for (const k of ['conversationsResolved', 'medianFirstResponseSeconds', 'csatAverage'] as const) if (!close(g[k], w[k])) out.push(`${id} ${k} ${g[k]} ≠ ${w[k]}`);
  }
  return out;
}

export async function reportsScenario(ctx: Ctx): Promise<void> {
  const { report, quick } = ctx;
  if (!ctx.features.queries.has('report')) {
    report.add({ scenario: S, metric: 'report(from, to)', value: 'not available yet', verdict: 'SKIP' });
    return;
  }
  const conversations = quick ? 10_000 : 100_000;
  const repeats = quick ? 10 : 40;

  const tenant = await seedTenant(ctx.server.graphqlUrl, ctx.fake, 30_000, ctx.runId, 'Reports');
  const me = await gql<{ me: { id: string } }>(ctx.server.graphqlUrl, `{ me { id } }`, {}, tenant.adminToken);
  const team = await gql<{ createTeam: { id: string } }>(
    ctx.server.graphqlUrl,
    `mutation($input: CreateTeamInput!) { createTeam(input: $input) { id } }`,
    { input: { name: 'Reports team', memberIds: [tenant.agentId] } },
    tenant.adminToken,
  );
  if (!me.data || !team.data) throw new Error(`could not set up the reports tenant: ${JSON.stringify(me.errors ?? team.errors)}`);
  const seed: ReportSeed = {
    tenantId: tenant.tenantId,
    phoneNumberId: tenant.numberId,
    twilioAccountId: tenant.accountId,
    adminId: me.data.me.id,
    agentId: tenant.agentId,
    teamId: team.data.createTeam.id,
    conversations,
  };

  ctx.log(`reports: seeding ${conversations.toLocaleString('en-US')} conversations with SQL`);
  const t0 = performance.now();
  for (const statement of reportSeedStatements(seed)) await ctx.db.sql.unsafe(statement);
  // What autovacuum does to a table that grew by inserts over 90 days (PG 13+ vacuums after
  // inserts too): set the visibility map, without which the report's index-only scans would
  // visit the heap for every row just because the seed wrote them all a second ago.
  await ctx.db.sql`vacuum analyze conversations, messages, csat_surveys`;
  const [{ n }] = await ctx.db.sql<{ n: number }[]>`select count(*)::int as n from messages where tenant_id = ${tenant.tenantId}::uuid`;
  report.detail(S, `seeded ${conversations.toLocaleString('en-US')} conversations, ${n.toLocaleString('en-US')} messages and their CSAT ratings over ${SEED_DAYS} days in ${((performance.now() - t0) / 1000).toFixed(1)} s (SQL, not scored)`);

  const windows = [
    { name: '7 days', days: 7, team: false },
    { name: '90 days', days: 90, team: false },
    { name: '90 days, one team', days: 90, team: true },
  ];
  const p99s: number[] = [];
  for (const w of windows) {
    const from = REPORT_SEED_END - w.days * DAY;
    const variables = { from: new Date(from).toISOString(), to: new Date(REPORT_SEED_END).toISOString(), teamId: w.team ? seed.teamId : null };
    const samples: number[] = [];
    let answer: ReportAnswer | null = null;
    for (let i = 0; i < repeats + 2; i++) {
      const started = performance.now();
      const res = await gql<{ report: ReportAnswer }>(ctx.server.graphqlUrl, QUERY, variables, tenant.adminToken);
      const ms = performance.now() - started;
      if (res.errors || !res.data) throw new Error(`report ${w.name} failed: ${JSON.stringify(res.errors).slice(0, 200)}`);
      answer = res.data.report;
      if (i >= 2) samples.push(ms); // two warm-up requests
    }
    const diff = differences(answer!, expectedReport(seed, from, REPORT_SEED_END, w.team));
    report.add({
      scenario: S,
      metric: `report ${w.name} equals the figures computed by hand (${answer!.conversationsOpened.toLocaleString('en-US')} opened)`,
      value: diff.length === 0 ? 'yes' : `no: ${diff.slice(0, 3).join('; ')}`,
      verdict: diff.length === 0 ? 'OK' : 'FAIL',
    });
    const s = summarize(samples);
    p99s.push(s.p99);
    report.add({
      scenario: S,
      metric: `report ${w.name} over ${conversations.toLocaleString('en-US')} conversations: p50 / p99 (ms)`,
      value: `${fmt(s.p50, 1)} / ${fmt(s.p99, 1)}`,
      target: 'p99 ≤ 200 ms',
      verdict: verdict(s.p99 <= 200),
    });
  }
  report.headline.reportP99 = fmt(Math.max(...p99s), 1);
  if (process.env.BENCH_EXPLAIN === '1') await explainReport(ctx, seed);
}

/**
 * BENCH_EXPLAIN=1: the plans of the 90-day report's statements, as the repository sends them
 * (captured through drizzle's logger), with EXPLAIN (ANALYZE, BUFFERS), in the bench's details.
 */
async function explainReport(ctx: Ctx, seed: ReportSeed): Promise<void> {
  const captured: Array<{ query: string; params: unknown[] }> = [];
  const db = drizzle(ctx.db.sql, { logger: { logQuery: (query, params) => captured.push({ query, params }) } }) as unknown as Db;
  const repo = new ReportsRepository(db, seed.tenantId);
  const scope = { from: new Date(REPORT_SEED_END - 90 * DAY), to: new Date(REPORT_SEED_END), teamId: null };
  await repo.report(scope);
  for (const { query, params } of captured) {
    const plan = await ctx.db.sql.unsafe(`explain (analyze, buffers) ${query}`, params as never[]);
    ctx.report.detail(S, `plan:\n${plan.map((r) => String(Object.values(r)[0])).join('\n')}`);
  }
}

function uuid(value: string): string {
  if (!/^[0-9a-f-]{36}$/i.test(value)) throw new Error(`not a uuid: ${value}`);
  return `'${value}'::uuid`;
}
