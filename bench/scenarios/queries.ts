/**
 * 3. The inbox list: `conversations(first: 20)` with contact, assignee and last message, for a
 * tenant with 10,000 conversations (seeded through the real webhook path, one new customer per
 * message; two thirds then assigned round-robin to agents with one SQL update). Requests/s and
 * latency from autocannon with the agent's token; SQL statements per request counted exactly
 * by running the server's code in a probe process (workers/statements-probe.ts). The ceiling: a
 * bare Fastify route (workers/bare-server.ts) running the same SQL for the same page and writing
 * the same JSON (checked equal first), measured with the same load in windows alternating with
 * ours (ours, bare, bare, ours, ...), so the machine's drift falls on both sides alike. The peer
 * (issue 16): PostGraphile 4 on the same tables serving the same page (tenant, order, fields and
 * size; checked equal first) in two set-ups, measured with the same load in windows alternating
 * with ours (lib/read-peer.ts).
 */
import type { ProbeJob, ProbeResult } from '../workers/statements-probe.js';
import { loadLine, runLoad, verdict, type Ctx } from '../lib/context.js';
import { gqlOk } from '../lib/gql.js';
import { persistentWorker, type PersistentWorker } from '../lib/procs.js';
import { createAgents, seedTenant } from '../lib/seed.js';
import { spawnNode } from '../lib/procs.js';
import { alternateWindows, compareWithPeers, peersReady, startReadPeers, type PeerComparison, type ReadPeer, type Side } from '../lib/read-peer.js';
import { freePort, serverEnv } from '../lib/server.js';
import { fmt } from '../lib/stats.js';
import { prepareWebhooks, verifyIngest, writeRequests } from '../lib/webhooks.js';

const S = '3 queries';

function inboxQuery(lastMessageField: boolean): string {
  const last = lastMessageField
    ? 'lastMessage { id body direction status createdAt }'
    : 'messages(first: 1) { edges { node { id body direction status createdAt } } }';
  return `query Inbox($first: Int, $after: String) {
  conversations(first: $first, after: $after) {
    edges { cursor node { id status unreadCount lastMessageAt
      contact { id phoneNumber name optedOut }
      assignee { id name email }
      ${last} } }
    pageInfo { hasNextPage endCursor }
  }
}`;
}

interface InboxPage {
  conversations: {
    edges: Array<{ node: { contact: { id: string } | null; assignee: { id: string } | null; lastMessage?: { id: string } | null; messages?: { edges: unknown[] } } }>;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

export async function queriesScenario(ctx: Ctx): Promise<void> {
  const { sizes, report, features } = ctx;
  if (!features.queries.has('conversations') || !ctx.webhooksWork) {
    report.add({ scenario: S, metric: 'conversations(first: 20)', value: 'not available yet', verdict: 'SKIP' });
    return;
  }
  const hasLast = features.conversationFields.has('lastMessage');
  const query = inboxQuery(hasLast);

  // The statements probe starts the server's code in its own process meanwhile (a few seconds), and
  // so does PostGraphile (introspection and schema build) when the page has its lastMessage field.
  const probe = persistentWorker('statements-probe', 'bench/workers/statements-probe.ts', { echoStderr: true });
  let peers: ReadPeer[] = [];
  try {
    peers = hasLast ? await startReadPeers(ctx) : [];
    const probeStarted = probe.call<{ ok: true }>({ type: 'start', env: serverEnv({ ...ctx.serverOptions, port: 0 }) }, 120_000);
    probeStarted.catch(() => {});
    await measure(ctx, hasLast, query, probeStarted, probe, peers);
  } finally {
    await Promise.all([probe.stop(), ...peers.map((p) => p.child.stop(3000))]);
  }
}

async function measure(
  ctx: Ctx,
  hasLast: boolean,
  query: string,
  probeStarted: Promise<unknown>,
  probe: PersistentWorker,
  peers: ReadPeer[],
): Promise<void> {
  const { sizes, report } = ctx;
  ctx.log(`queries: seeding a tenant with ${sizes.queryConversations} conversations`);
  const tenant = await seedTenant(ctx.server.graphqlUrl, ctx.fake, 10_000, ctx.runId, 'Inbox');
  const agents = [tenant.agentId, ...(await createAgents(ctx.server.graphqlUrl, tenant.adminToken, sizes.queryAgents - 1, ctx.runId))];
  const seed = prepareWebhooks([tenant], sizes.queryConversations, { phase: 'inbox', sendersPerTenant: 0, distinctSenders: true, senderOffset: 5_000_000 });
  const seedRun = await runLoad({
    origin: ctx.server.origin,
    requestsFile: writeRequests(ctx.tmp, 'inbox-seed', seed.requests),
    amount: seed.requests.length,
    connections: sizes.saturationConnections,
  });
  report.detail(S, loadLine('seeding through webhooks (not scored)', seedRun));
  const check = await verifyIngest(ctx.db.sql, seed.expected);
  const assigned = await ctx.db.sql`
    with c as (select id, row_number() over (order by id) as rn from conversations where tenant_id = ${tenant.tenantId}::uuid)
    update conversations set assignee_id = case when c.rn % 3 = 0 then null
      else (${agents}::uuid[])[1 + (c.rn % ${agents.length})] end
    from c where conversations.id = c.id
    returning conversations.id`;
  await ctx.db.sql`analyze`;
  report.detail(
    S,
    `tenant seeded: ${assigned.length} conversations (${check.stored}/${check.expected} messages stored), ${agents.length} agents, 2/3 of conversations assigned; query selects ${hasLast ? 'lastMessage' : 'messages(first: 1) (no lastMessage field)'}`,
  );

  // Sanity: the page is what a dashboard needs.
  const page = await gqlOk<InboxPage>(ctx.server.graphqlUrl, query, { first: 20 }, tenant.agentToken);
  const edges = page.conversations.edges;
  const withLast = edges.filter((e) => (hasLast ? e.node.lastMessage : e.node.messages?.edges.length)).length;
  const withAssignee = edges.filter((e) => e.node.assignee).length;
  report.detail(S, `one page: ${edges.length} conversations, ${withAssignee} with an assignee, ${withLast} with a last message, hasNextPage ${page.conversations.pageInfo.hasNextPage}`);
  if (edges.length !== 20 || withLast !== 20) throw new Error(`the inbox page is not complete (${edges.length} edges, ${withLast} with a last message)`);

  const request = {
    path: '/graphql',
    body: JSON.stringify({ query, variables: { first: 20 } }),
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${tenant.agentToken}` },
  };
  // The probe only counts statements: a probe that cannot start (a loaded machine) costs that row, not the throughput figures.
  const probeReady = await probeStarted.then(
    () => true,
    (err: unknown) => {
      report.detail(S, `statements probe unavailable: ${err instanceof Error ? err.message : String(err)}`);
      return false;
    },
  );
  // PostGraphile's start (introspection, schema build) must be over before anything is timed.
  // A peer that cannot start or answer costs its own rows (ERROR), not the list's figures.
  let peerError: string | null = null;
  const peersUp =
    peers.length > 0 &&
    (await peersReady(peers, 120_000).then(
      () => true,
      (err: unknown) => ((peerError = err instanceof Error ? err.message : String(err)), false),
    ));
  ctx.log('queries: warm-up and measured run');
  await runLoad({ origin: ctx.server.origin, request, amount: 0, durationSec: sizes.queryWarmupSeconds, connections: sizes.queryConnections });
  const run = await ctx.profiler.around('queries', () =>
    runLoad({ origin: ctx.server.origin, request, amount: 0, durationSec: sizes.querySeconds, connections: sizes.queryConnections }, ctx.server.pid),
  );
  report.detail(S, loadLine(`conversations(first: 20) for ${sizes.querySeconds} s, ${sizes.queryConnections} connections`, run));

  // The peers (lib/read-peer.ts): their pages checked, then measured in windows alternating with ours.
  let compared: PeerComparison | null = null;
  if (peersUp) {
    ctx.log('queries: the peer, PostGraphile 4 (two set-ups), in windows alternating with ours');
    try {
      compared = await compareWithPeers(ctx, peers, S, tenant.tenantId, request);
    } catch (err) {
      peerError = err instanceof Error ? err.message : String(err);
    }
  }
  if (peerError) {
    report.detail(S, `peer: PostGraphile 4 failed: ${peerError}`);
    report.add({ scenario: S, metric: 'conversations(first: 20) against PostGraphile 4, same page (req/s)', value: peerError.split('\n')[0]!.slice(0, 160), verdict: 'ERROR' });
  } else if (peers.length === 0) {
    report.detail(S, 'peer: PostGraphile 4 not measured (the server has no lastMessage field to compare with)');
  }

  ctx.log('queries: the bare-SQL ceiling, in windows alternating with ours');
  const bare = await compareWithBareCeiling(ctx, tenant, request);

  ctx.log('queries: counting SQL statements per request (probe process)');
  const second = await gqlOk<InboxPage>(ctx.server.graphqlUrl, query, { first: 20 }, tenant.agentToken);
  const probeJob: ProbeJob = {
    token: tenant.agentToken,
    variants: [
      { name: 'first: 5', query, variables: { first: 5 } },
      { name: 'first: 20', query, variables: { first: 20 } },
      { name: 'first: 50', query, variables: { first: 50 } },
      { name: 'first: 100', query, variables: { first: 100 } },
      { name: 'first: 20, page 2', query, variables: { first: 20, after: second.conversations.pageInfo.endCursor } },
      ...(hasLast ? [{ name: 'first: 20 with messages(first: 1) instead of lastMessage', query: inboxQuery(false), variables: { first: 20 } }] : []),
    ],
  };
  // The probe asks each variant once cold and several times warm and keeps the lowest warm count
  // (its app's own timers may add statements to a request's count, never take one away).
  const counted0 = probeReady ? (await probe.call<ProbeResult>({ type: 'job', job: probeJob }, 120_000)).variants : [];
  for (const v of counted0) report.detail(S, `statements per request, ${v.name}: ${v.statements} (warm counts ${v.warm.join(', ')}; first call ${v.cold})${v.errors ? `; errors: ${v.errors}` : ''}`);
  const counted = counted0.slice(0, 5).map((v) => v.statements);
  const constant = probeReady && counted.every((n) => n === counted[0]) && counted0.every((v) => !v.errors);

  report.add({
    scenario: S,
    metric: `conversations(first: 20), ${sizes.queryConversations.toLocaleString('en-US')} convs (req/s)`,
    value: fmt(run.throughput),
    target: '≥ 2,500 req/s',
    verdict: verdict(run.throughput >= 2500 && run.non2xx === 0 && run.errors === 0),
  });
  const ofCeiling = bare.ours.throughput / Math.max(1, bare.bare.throughput);
  report.add({
    scenario: S,
    metric: 'conversations(first: 20) against bare Fastify + the same SQL (req/s)',
    value: fmt(bare.ours.throughput),
    ceiling: fmt(bare.bare.throughput),
    ratio: `${(ofCeiling * 100).toFixed(0)}%`,
    target: '≥ 50% of the ceiling',
    verdict: verdict(ofCeiling >= 0.5 && bare.bare.failed === 0 && bare.ours.failed === 0),
  });
  if (bare.ours.cpu && bare.bare.cpu) {
    const c = (x: NonNullable<Side['cpu']>) => `${fmt(x.serverMsPerRequest, 2)} / ${fmt(x.postgresMsPerRequest, 2)}`;
    report.add({ scenario: S, metric: 'CPU per request, server / Postgres (ms): ours; bare Fastify + the same SQL', value: c(bare.ours.cpu), ceiling: c(bare.bare.cpu) });
  }
  if (compared) {
    const { ours, peers: side } = compared;
    const ofRls = ours.throughput / Math.max(1, side.rls.throughput);
    report.add({
      scenario: S,
      metric: 'conversations(first: 20) against PostGraphile 4, token + RLS, same page (req/s)',
      value: fmt(ours.throughput),
      ceiling: `${fmt(side.rls.throughput)} (peer)`,
      ratio: `${ofRls.toFixed(2)}×`,
      target: '≥ 1.25× PostGraphile (stretch 2×)',
      verdict: verdict(ofRls >= 1.25 && side.rls.failed === 0 && ours.failed === 0),
    });
    report.add({
      scenario: S,
      metric: 'conversations(first: 20) against PostGraphile 4, no auth, tenant as condition (req/s)',
      value: fmt(ours.throughput),
      ceiling: `${fmt(side.condition.throughput)} (peer)`,
      ratio: `${(ours.throughput / Math.max(1, side.condition.throughput)).toFixed(2)}×`,
    });
    if (side.rls.cpu && side.condition.cpu && ours.cpu) {
      const c = (x: NonNullable<typeof ours.cpu>) => `${fmt(x.serverMsPerRequest, 2)} / ${fmt(x.postgresMsPerRequest, 2)}`;
      report.add({
        scenario: S,
        metric: 'CPU per request, server / Postgres (ms): ours; PostGraphile RLS; condition',
        value: c(ours.cpu),
        ceiling: `${c(side.rls.cpu)}; ${c(side.condition.cpu)}`,
      });
    }
  }
  report.add({ scenario: S, metric: 'latency p50/p95/p99 (ms)', value: `${fmt(run.latencyMs.p50, 2)} / ${fmt(run.latencyMs.p95, 2)} / ${fmt(run.latencyMs.p99, 2)}` });
  if (run.cpu) {
    report.add({
      scenario: S,
      metric: 'CPU per request: server / Postgres (ms)',
      value: `${fmt(run.cpu.serverMsPerRequest, 2)} / ${fmt(run.cpu.postgresMsPerRequest, 2)}`,
    });
  }
  report.add({
    scenario: S,
    metric: 'SQL statements per request (first 5/20/50/100/page 2)',
    value: probeReady ? counted.join('/') : 'probe unavailable',
    target: 'constant',
    verdict: verdict(constant),
  });
  report.headline.listRps = fmt(run.throughput);
  report.headline.statements = String(counted[1] ?? '–');

  ctx.log('queries: one conversation\'s thread, messages(first: 50)');
  await measureThread(ctx, tenant, probeReady ? probe : null);
}

const THREAD_QUERY = `query Thread($id: ID!, $first: Int) {
  conversation(id: $id) {
    id status
    messages(first: $first) { edges { cursor node { id body direction status createdAt segments } } pageInfo { hasNextPage hasPreviousPage } }
  }
}`;

/** Texts in the measured thread: more than one page of 50, so the page is full and has more behind it. */
const THREAD_MESSAGES = 60;

interface ThreadPage {
  conversation: { id: string; messages: { edges: unknown[]; pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean } } } | null;
}

/**
 * The issue's other read figure: `conversation(id) { messages(first: 50) }` (stretch ≥ 1,000 req/s).
 * One customer writes THREAD_MESSAGES texts through the webhook path (one conversation), assigned
 * to the agent of the list; then the same load as the list's run, with the agent's token.
 */
async function measureThread(ctx: Ctx, tenant: Awaited<ReturnType<typeof seedTenant>>, probe: PersistentWorker | null): Promise<void> {
  const { sizes, report } = ctx;
  const seed = prepareWebhooks([tenant], THREAD_MESSAGES, { phase: 'thread', sendersPerTenant: 1, senderOffset: 7_000_000 });
  const seedRun = await runLoad({ origin: ctx.server.origin, requestsFile: writeRequests(ctx.tmp, 'thread-seed', seed.requests), amount: seed.requests.length, connections: 4 });
  const check = await verifyIngest(ctx.db.sql, seed.expected);
  const [conversation] = await ctx.db.sql<Array<{ id: string; texts: number }>>`
    update conversations c set assignee_id = ${tenant.agentId}::uuid
    from (select conversation_id, count(*)::int as texts from messages
          where tenant_id = ${tenant.tenantId}::uuid and twilio_sid = any(${seed.expected.map((e) => e.sid)}::text[])
          group by conversation_id) m
    where c.tenant_id = ${tenant.tenantId}::uuid and c.id = m.conversation_id
    returning c.id, m.texts`;
  if (!conversation || conversation.texts !== THREAD_MESSAGES || check.stored !== THREAD_MESSAGES || seedRun.non2xx > 0) {
    throw new Error(`the thread was not seeded: ${check.stored}/${THREAD_MESSAGES} stored, conversation ${JSON.stringify(conversation ?? null)}`);
  }
  const variables = { id: conversation.id, first: 50 };
  const page = await gqlOk<ThreadPage>(ctx.server.graphqlUrl, THREAD_QUERY, variables, tenant.agentToken);
  const messages = page.conversation?.messages;
  if (messages?.edges.length !== 50) throw new Error(`the thread page is not complete (${messages?.edges.length ?? 'no conversation'})`);
  report.detail(
    S,
    `thread: one conversation with ${conversation.texts} texts from one customer (seeded through webhooks), assigned to the agent; one page: ${messages.edges.length} messages, hasNextPage ${messages.pageInfo.hasNextPage}, hasPreviousPage ${messages.pageInfo.hasPreviousPage}`,
  );
  const request = {
    path: '/graphql',
    body: JSON.stringify({ query: THREAD_QUERY, variables }),
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${tenant.agentToken}` },
  };
  await runLoad({ origin: ctx.server.origin, request, amount: 0, durationSec: sizes.queryWarmupSeconds, connections: sizes.queryConnections });
  const run = await ctx.profiler.around('thread', () =>
    runLoad({ origin: ctx.server.origin, request, amount: 0, durationSec: sizes.querySeconds, connections: sizes.queryConnections }, ctx.server.pid),
  );
  report.detail(S, loadLine(`conversation(id) { messages(first: 50) } for ${sizes.querySeconds} s, ${sizes.queryConnections} connections`, run));
  report.add({
    scenario: S,
    metric: 'conversation(id) { messages(first: 50) } (req/s)',
    value: fmt(run.throughput),
    target: '≥ 1,000 req/s (stretch)',
    verdict: verdict(run.throughput >= 1000 && run.non2xx === 0 && run.errors === 0),
  });
  const cpu = run.cpu ? `; CPU per request, server / Postgres ${fmt(run.cpu.serverMsPerRequest, 2)} / ${fmt(run.cpu.postgresMsPerRequest, 2)} ms` : '';
  report.add({
    scenario: S,
    metric: 'thread latency p50/p95/p99 (ms); CPU per request',
    value: `${fmt(run.latencyMs.p50, 2)} / ${fmt(run.latencyMs.p95, 2)} / ${fmt(run.latencyMs.p99, 2)}${cpu}`,
  });
  if (probe) {
    const job: ProbeJob = { token: tenant.agentToken, variants: [10, 50, 100].map((first) => ({ name: `messages(first: ${first})`, query: THREAD_QUERY, variables: { ...variables, first } })) };
    const counted = (await probe.call<ProbeResult>({ type: 'job', job }, 120_000)).variants;
    for (const v of counted) report.detail(S, `thread statements per request, ${v.name}: ${v.statements} (warm counts ${v.warm.join(', ')}; first call ${v.cold})${v.errors ? `; errors: ${v.errors}` : ''}`);
    const counts = counted.map((v) => v.statements);
    report.add({
      scenario: S,
      metric: 'thread SQL statements per request (messages first 10/50/100)',
      value: counts.join('/'),
      target: 'constant',
      verdict: verdict(counts.every((n) => n === counts[0]) && counted.every((v) => !v.errors)),
    });
  }
}

/**
 * The read ceiling: workers/bare-server.ts with the tenant and agent of the page, on the same
 * database; its answer must equal ours (same page, fields, order and JSON) before it is measured.
 * Then the same load on both, in windows of querySeconds / rounds alternating ours, bare, bare,
 * ours, ... (sizes.queryPeerRounds rounds): a ceiling measured in one window after ours moved
 * with whatever else the shared machine did then (650-900 req/s in runs minutes apart, ours
 * steady), and the ratio with it.
 */
async function compareWithBareCeiling(
  ctx: Ctx,
  tenant: { tenantId: string; agentId: string },
  request: { path: string; body: string; headers: Record<string, string> },
): Promise<{ ours: Side; bare: Side }> {
  const { sizes, report } = ctx;
  const port = await freePort();
  const bare = spawnNode('bare-read', 'bench/workers/bare-server.ts', {
    env: { PORT: String(port), READ_DATABASE_URL: ctx.db.url, READ_TENANT_ID: tenant.tenantId, READ_USER_ID: tenant.agentId, READ_FIRST: '20' },
    echoStderr: true,
  });
  try {
    await bare.waitForLine(/bare server ready at/, 30_000);
    const origin = `http://127.0.0.1:${port}`;
    const res = await fetch(`${origin}/graphql`, { method: 'POST', headers: request.headers, body: request.body });
    const theirs = (await res.json()) as { data: InboxPage };
    // Ours at the same moment, so both read the same rows.
    const now = await gqlOk<InboxPage>(ctx.server.graphqlUrl, JSON.parse(request.body).query, { first: 20 }, request.headers.Authorization!.slice('Bearer '.length));
    if (JSON.stringify(theirs.data) !== JSON.stringify(now)) {
      throw new Error(`the bare read route does not answer the same page:\nours   ${JSON.stringify(now).slice(0, 600)}\ntheirs ${JSON.stringify(theirs.data).slice(0, 600)}`);
    }
    await runLoad({ origin, request, amount: 0, durationSec: sizes.queryWarmupSeconds, connections: sizes.queryConnections });
    const rounds = Math.max(1, sizes.queryPeerRounds);
    const seconds = Math.max(1, Math.round(sizes.querySeconds / rounds));
    report.detail(S, `against the bare-SQL ceiling: ${rounds} window(s) of ${seconds} s per side, in the order ours, bare, bare, ours, ...; each side's req/s = its 2xx answers over its windows' time`);
    const measured = await alternateWindows(
      ctx,
      S,
      [
        { key: 'ours', label: 'ours', origin: ctx.server.origin, request, pid: ctx.server.pid },
        { key: 'bare', label: 'ceiling: bare Fastify + the same SQL, same page and JSON', origin, request, pid: bare.pid },
      ],
      rounds,
      seconds,
      (i) => (i % 2 === 0 ? ['ours', 'bare'] : ['bare', 'ours']),
    );
    return { ours: measured.get('ours')!, bare: measured.get('bare')! };
  } finally {
    await bare.stop(3000);
  }
}
