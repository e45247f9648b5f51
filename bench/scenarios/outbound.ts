/**
 * 4. Outbound: `sendMessage` mutations (agents' tokens, conversations of every tenant) posted
 * by autocannon; the dispatcher hands them to the fake Twilio with pacing off. Mutation
 * latency and throughput from autocannon; dispatcher throughput = messages / (first mutation
 * sent → last POST received by the fake); every message must reach the fake exactly once.
 */
import { postgresCpuMs, processCpuMs } from '../lib/cpu.js';
import { loadLine, runLoad, type Ctx } from '../lib/context.js';
import { sleep, fmt } from '../lib/stats.js';
import { prepareWebhooks, writeRequests } from '../lib/webhooks.js';
import type { PreparedRequest } from '../workers/load.js';

const S = '4 outbound';
const TAG = /^bench\|out\|t(\d+)\|s(\d+)\|/;

export async function outboundScenario(ctx: Ctx): Promise<void> {
  const { sizes, report } = ctx;
  if (!ctx.features.mutations.has('sendMessage') || !ctx.webhooksWork) {
    report.add({ scenario: S, metric: 'sendMessage', value: 'not available yet', verdict: 'SKIP' });
    return;
  }
  // Conversations to answer in: those of the ingest phase, or a few opened now.
  const tenantIds = ctx.tenants.map((t) => t.tenantId);
  let convs = await conversationsByTenant(ctx, tenantIds);
  if (ctx.tenants.some((t) => (convs.get(t.tenantId)?.length ?? 0) < 5)) {
    const seed = prepareWebhooks(ctx.tenants, ctx.tenants.length * 5, { phase: 'outseed', sendersPerTenant: sizes.sendersPerTenant });
    await runLoad({ origin: ctx.server.origin, requestsFile: writeRequests(ctx.tmp, 'out-seed', seed.requests), amount: seed.requests.length, connections: 8 });
    convs = await conversationsByTenant(ctx, tenantIds);
  }

  const mutation = 'mutation Send($input: SendMessageInput!) { sendMessage(input: $input) { id status } }';
  const requests: PreparedRequest[] = [];
  for (let k = 0; k < sizes.outbound; k++) {
    const t = ctx.tenants[k % ctx.tenants.length]!;
    const list = convs.get(t.tenantId)!;
    const conversationId = list[Math.floor(k / ctx.tenants.length) % list.length]!;
    requests.push({
      path: '/graphql',
      body: JSON.stringify({ query: mutation, variables: { input: { conversationId, body: `bench|out|t${t.index}|s${k}| Thanks! Your appointment is confirmed for Tuesday at 3:30 pm.` } } }),
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${t.agentToken}` },
    });
  }
  ctx.fake.reset();
  ctx.log(`outbound: ${sizes.outbound} sendMessage mutations`);
  const file = writeRequests(ctx.tmp, 'outbound', requests);
  const tagged = () => ctx.fake.messageRequests.filter((r) => TAG.test(String(r.params['Body'] ?? '')));
  const cpu0 = { server: processCpuMs(ctx.server.pid), postgres: postgresCpuMs() };
  const { run } = await ctx.profiler.around('outbound', async () => {
    const run = await runLoad({ origin: ctx.server.origin, requestsFile: file, amount: requests.length, connections: sizes.outboundConnections });
    report.detail(S, loadLine(`sendMessage, ${sizes.outboundConnections} connections`, run));

    // Wait for the dispatcher to drain (bounded), then for stragglers that would be duplicates.
    const deadline = Date.now() + 180_000;
    while (tagged().filter((r) => r.status === 201).length < run.ok2xx && Date.now() < deadline) await sleep(100);
    await sleep(1000);
    return { run };
  });
  const cpu = { server: (processCpuMs(ctx.server.pid) - cpu0.server) / run.ok2xx, postgres: (postgresCpuMs() - cpu0.postgres) / run.ok2xx };
  const posts = tagged();
  const ok = posts.filter((r) => r.status === 201);
  const distinct = new Set(ok.map((r) => String(r.params['Body'])));
  const lastAt = ok.reduce((m, r) => Math.max(m, r.at), 0);
  const dispatchMs = lastAt - run.startedAt;
  const dispatchRate = (ok.length * 1000) / dispatchMs;
  const extra = posts.length - distinct.size;

  const [db] = await ctx.db.sql<{ sent: number; other: number }[]>`
    select count(*) filter (where status = 'SENT')::int as sent, count(*) filter (where status <> 'SENT')::int as other
    from messages where direction = 'OUTBOUND' and body like 'bench|out|%'`;
  report.detail(
    S,
    `fake Twilio received ${posts.length} POSTs for ${distinct.size} distinct messages (${ok.length} answered 201) of ${run.ok2xx} accepted mutations; last POST ${((lastAt - run.lastResponseAt) / 1000).toFixed(2)} s after the last mutation answer; database: ${db?.sent ?? 0} SENT, ${db?.other ?? 0} in another status`,
  );

  report.add({ scenario: S, metric: `sendMessage throughput (mutations/s)`, value: fmt(run.throughput) });
  report.add({ scenario: S, metric: 'sendMessage latency p50/p95/p99 (ms)', value: `${fmt(run.latencyMs.p50, 2)} / ${fmt(run.latencyMs.p95, 2)} / ${fmt(run.latencyMs.p99, 2)}` });
  report.add({
    scenario: S,
    metric: 'CPU per message, mutation + dispatch: server / Postgres (ms)',
    value: `${fmt(cpu.server, 2)} / ${fmt(cpu.postgres, 2)}`,
  });
  report.add({ scenario: S, metric: 'dispatcher throughput to Twilio, pacing off (msg/s)', value: fmt(dispatchRate) });
  report.add({
    scenario: S,
    metric: 'POSTs to Twilio per message (missing / extra)',
    value: `${distinct.size}/${run.ok2xx} (${run.ok2xx - distinct.size} / ${extra})`,
    target: 'exactly one each',
    verdict: distinct.size === run.ok2xx && extra === 0 && run.ok2xx === run.amount ? 'OK' : 'FAIL',
  });
  report.headline.dispatch = fmt(dispatchRate);
}

async function conversationsByTenant(ctx: Ctx, tenantIds: string[]): Promise<Map<string, string[]>> {
  const rows = await ctx.db.sql<{ id: string; tenant_id: string }[]>`
    select id, tenant_id from (
      select id, tenant_id, row_number() over (partition by tenant_id order by id) as rn
      from conversations where tenant_id = any(${tenantIds}::uuid[])
    ) x where rn <= 200`;
  const map = new Map<string, string[]>();
  for (const r of rows) {
    let list = map.get(r.tenant_id);
    if (!list) map.set(r.tenant_id, (list = []));
    list.push(r.id);
  }
  return map;
}
