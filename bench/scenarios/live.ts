/**
 * 2. Live delivery: N graphql-ws `messageAdded` subscriptions (one socket each, agent tokens)
 * spread over the tenants, held by a client process; inbound webhooks at fixed rates from the
 * open-loop sender, each carrying its send time and tenant in the body. Measures the time from
 * the webhook being sent to each subscriber receiving the event, and that no subscriber ever
 * sees another tenant's message.
 */
import { lat, runPaced, verdict, type Ctx } from '../lib/context.js';
import { awaitAllSubscribed, awaitDelivery, openSubscribers, subscriberProcess, type Subscribers } from '../lib/subscribers.js';
import { serverMetrics, type ServerUnderTest } from '../lib/server.js';
import { postgresCpuMs, processCpuSplitMs, processCpuMs } from '../lib/cpu.js';
import { fmt } from '../lib/stats.js';

const S = '2 live';
/** prom-client samples the event loop with a 10 ms timer; its histogram holds whole intervals, timer included. */
const LAG_TIMER_MS = 10;

export async function liveScenario(ctx: Ctx): Promise<void> {
  const { sizes, report } = ctx;
  if (!ctx.webhooksWork || !ctx.features.subscriptions.has('messageAdded')) {
    report.add({ scenario: S, metric: 'messageAdded delivery', value: 'not available yet', verdict: 'SKIP' });
    return;
  }
  ctx.log(`live: opening ${sizes.liveSubs} subscriptions`);
  const subs = await openSubscribers(ctx.server.wsUrl, ctx.tenants, sizes.liveSubs, 50);
  try {
    report.detail(
      S,
      `${subs.connect.connected} of ${sizes.liveSubs} subscriptions connected in ${(subs.connect.ms / 1000).toFixed(1)} s over ${ctx.tenants.length} tenants (${sizes.liveSubs / ctx.tenants.length} per tenant, one WebSocket each)${subs.connect.failed ? `; ${subs.connect.failed} failed: ${subs.connect.firstError}` : ''}`,
    );
    const counts = await awaitAllSubscribed(subs, ctx.tenants);
    report.detail(S, `${counts.withEvents}/${counts.subscribers} subscriptions confirmed live by a warm-up event (${counts.closed} closed, ${counts.errors} errors)`);

    let wrongTotal = 0;
    let dupTotal = 0;
    for (const rate of sizes.liveRates) {
      ctx.log(`live: ${rate} msg/s for ${sizes.liveSeconds} s`);
      const { sent, expected, storedTotal, r, cpuPerMessage, cpuSplit } = await measureDelivery(ctx, ctx.server, subs, rate, sizes.liveSeconds, `live${rate}`);
      wrongTotal += r.wrongTenant;
      dupTotal += r.duplicates;
      report.detail(
        S,
        `${rate} msg/s: sent ${sent.sent} (${sent.ok} answered 2xx, ${sent.non2xx} non-2xx, ${sent.errors} errors; ${storedTotal} stored) at ${fmt(sent.achievedRate)}/s, webhook ${lat(sent.httpLatencyMs)}; events ${r.received}/${expected}; delivery ${lat(r.latencyMs)}; wrong tenant ${r.wrongTenant}, duplicates ${r.duplicates}, untagged ${r.untagged}; server CPU ${fmt(cpuPerMessage, 2)} ms per message (ingest + fan-out to ${fmt(expected / Math.max(1, storedTotal), 1)} subscribers; ${cpuSplit})`,
      );
      const isTarget = rate === 500;
      report.add({
        scenario: S,
        metric: `delivery p50/p95/p99 at ${rate} msg/s, ${subs.connect.connected} subs (ms)`,
        value: `${fmt(r.latencyMs.p50, 2)} / ${fmt(r.latencyMs.p95, 2)} / ${fmt(r.latencyMs.p99, 2)}`,
        ...(isTarget
          ? { target: 'p99 ≤ 20 ms (1,000 subs)', verdict: sizes.liveSubs >= 1000 ? verdict(r.latencyMs.p99 <= 20) : '' }
          : {}),
      });
      report.add({
        scenario: S,
        metric: `events delivered at ${rate} msg/s`,
        value: `${r.received}/${expected}`,
        target: 'all',
        verdict: r.received >= expected && storedTotal >= sent.ok ? 'OK' : 'FAIL',
      });
      if (isTarget) report.headline.liveP99 = fmt(r.latencyMs.p99, 2);
    }
    report.add({ scenario: S, metric: 'events to the wrong tenant / duplicated', value: `${wrongTotal} / ${dupTotal}`, target: '0', verdict: wrongTotal === 0 && dupTotal === 0 ? 'OK' : 'FAIL' });
  } finally {
    await subs.close();
  }
}

/**
 * Inbound texts at `rate`/s for `seconds` through the open-loop sender, to every tenant, and the
 * delivery of each to every subscription of its tenant (phase-tagged bodies): what was sent and
 * stored, what each subscriber received and when, and the server's CPU per stored message.
 */
export async function measureDelivery(ctx: Ctx, server: ServerUnderTest, subs: Subscribers, rate: number, seconds: number, phase: string) {
  await subs.call({ type: 'phase', phase });
  const clientPid = (await subscriberProcess.child).pid;
  await serverMetrics(server.origin, []); // resets the event-loop-lag histogram: the next scrape reads this window
  const cpu0 = processCpuSplitMs(server.pid);
  const client0 = processCpuMs(clientPid);
  const postgres0 = postgresCpuMs();
  const { sent, expected, storedTotal, r } = await ctx.profiler.around(phase, async () => {
    const sent = await runPaced({
      origin: server.origin,
      targets: ctx.tenants.map((t) => ({ tenant: t.index, url: t.webhookUrl, authToken: t.authToken, accountSid: t.accountSid, to: t.e164 })),
      rate,
      count: rate * seconds,
      phase,
      sendersPerTenant: ctx.sizes.sendersPerTenant,
      maxInFlight: 256,
    });
    // Every message stored must reach every subscriber of its tenant: count them in the database
    // (a webhook answered non-2xx stored nothing and is not expected).
    const stored = await ctx.db.sql<{ tenant: string; n: number }[]>`
      select substring(body from ${`^bench\\|${phase}\\|t(\\d+)\\|`}) as tenant, count(*)::int as n
      from messages where body like ${`bench|${phase}|%`} group by 1`;
    let expected = 0;
    let storedTotal = 0;
    for (const { tenant, n } of stored) {
      expected += n * (subs.perTenant.get(Number(tenant)) ?? 0);
      storedTotal += n;
    }
    const r = await awaitDelivery(subs, phase, expected);
    return { sent, expected, storedTotal, r };
  });
  const cpu1 = processCpuSplitMs(server.pid);
  const [lagP99, lagMax] = await serverMetrics(server.origin, ['nodejs_eventloop_lag_p99_seconds', 'nodejs_eventloop_lag_max_seconds']);
  const stored = Math.max(1, storedTotal);
  const cpuPerMessage = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / stored;
  // Where the server's time goes (system: mostly socket writes) and what the receiving side costs,
  // on the same two cores: a saturated machine queues every frame.
  const cpuSplit = `user ${fmt((cpu1.user - cpu0.user) / stored, 2)} + system ${fmt((cpu1.system - cpu0.system) / stored, 2)}; subscriber client ${fmt((processCpuMs(clientPid) - client0) / stored, 2)} ms, Postgres ${fmt((postgresCpuMs() - postgres0) / stored, 2)} ms per message; server event-loop delay p99 ${fmt(lagP99! * 1000 - LAG_TIMER_MS, 1)} / max ${fmt(lagMax! * 1000 - LAG_TIMER_MS, 1)} ms`;
  return { sent, expected, storedTotal, r, cpuPerMessage, cpuSplit };
}
