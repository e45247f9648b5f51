/**
 * 5. Memory per idle subscription: the server's resident set (VmRSS of its process) with no
 * subscription, then with N idle authenticated `messageAdded` subscriptions (one WebSocket each,
 * confirmed live by one event each), after the process settles. In the full run the server is
 * freshly started for this (same database and secrets), so earlier load has not already grown
 * its heap; in quick mode the main server is reused. Then the same subscriptions receive 100
 * inbound texts a second (issue 16: 10,000 subscriptions on one instance, delivery p99 ≤ 50 ms).
 */
import { lat, verdict, type Ctx } from '../lib/context.js';
import { gql } from '../lib/gql.js';
import { Inspector } from '../lib/profiler.js';
import { rssBytes, startServer, type ServerUnderTest } from '../lib/server.js';
import { fmt, median, sleep } from '../lib/stats.js';
import { measureDelivery } from './live.js';
import { ensureAgentTokens } from '../lib/seed.js';
import { awaitAllSubscribed, openSubscribers, SOCKETS_PER_USER, usersPerTenant, webhookPerTenant } from '../lib/subscribers.js';

const S = '5 memory';

async function settledRss(pid: number, samples: number, everyMs: number): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < samples; i++) {
    values.push(rssBytes(pid));
    await sleep(everyMs);
  }
  return median(values);
}

/** Runs the scenario; returns the server the caller should use afterwards (a fresh one may replace the main server). */
export async function memoryScenario(ctx: Ctx): Promise<ServerUnderTest> {
  const { sizes, report } = ctx;
  if (!ctx.features.subscriptions.has('messageAdded') || !ctx.webhooksWork) {
    report.add({ scenario: S, metric: 'idle subscriptions', value: 'not available yet', verdict: 'SKIP' });
    return ctx.server;
  }
  // The server caps sockets per user (WS_MAX_SOCKETS_PER_USER, 20 by default): the subscriptions
  // are spread over enough agents of each tenant. They are created on the main server, before the
  // restart, so the fresh server's baseline does not hold their log-ins.
  const users = usersPerTenant(ctx.tenants, sizes.memorySubs);
  if (users > 1) {
    const start = performance.now();
    await ensureAgentTokens(ctx.server.graphqlUrl, ctx.tenants, users, ctx.runId);
    ctx.log(`memory: ${users} agents per tenant ready in ${((performance.now() - start) / 1000).toFixed(1)} s`);
  }
  let server = ctx.server;
  if (sizes.memoryFreshServer) {
    ctx.log('memory: restarting the server for a clean heap');
    await ctx.server.stop();
    // With the inspector: a full garbage collection before each sample, and the JS heap size.
    server = await startServer({ ...ctx.serverOptions, inspect: true });
    if (server.inspectorUrl) await ctx.profiler.retarget(server.inspectorUrl);
  }
  const inspector = server.inspectorUrl ? await Inspector.connect(server.inspectorUrl) : null;
  try {
    return await measure(ctx, server, inspector);
  } finally {
    inspector?.close();
  }
}

interface MemorySample {
  rss: number;
  /** V8 heap in use after a forced GC (null without the inspector). */
  heapUsed: number | null;
}

async function sample(pid: number, inspector: Inspector | null, samples: number, everyMs: number): Promise<MemorySample> {
  let heapUsed: number | null = null;
  if (inspector) {
    await inspector.call('HeapProfiler.collectGarbage');
    await inspector.call('HeapProfiler.collectGarbage');
    heapUsed = (await inspector.call<{ usedSize: number }>('Runtime.getHeapUsage')).usedSize;
  }
  return { rss: await settledRss(pid, samples, everyMs), heapUsed };
}

async function measure(ctx: Ctx, server: ServerUnderTest, inspector: Inspector | null): Promise<ServerUnderTest> {
  const { sizes, report } = ctx;
  // Warm the code paths the subscriptions will use, then take the baseline.
  for (let i = 0; i < 50; i++) await gql(server.graphqlUrl, '{ me { id } }', {}, ctx.tenants[i % ctx.tenants.length]!.agentToken);
  await webhookPerTenant(ctx.tenants, 'memwarm');
  await sleep(sizes.memorySettleMs);
  const before = await sample(server.pid, inspector, sizes.memorySamples, 250);
  // BENCH_HEAP_SNAPSHOT=<prefix>: heap snapshots before and with the subscriptions, to see where the memory goes.
  const snapshots = process.env.BENCH_HEAP_SNAPSHOT;
  if (snapshots && inspector) await inspector.heapSnapshot(`${snapshots}-before.heapsnapshot`);

  ctx.log(`memory: opening ${sizes.memorySubs} idle subscriptions`);
  const subs = await openSubscribers(server.wsUrl, ctx.tenants, sizes.memorySubs, 100);
  try {
    const counts = await awaitAllSubscribed(subs, ctx.tenants, 120_000);
    await sleep(sizes.memorySettleMs);
    const after = await sample(server.pid, inspector, sizes.memorySamples, 250);
    if (snapshots && inspector) await inspector.heapSnapshot(`${snapshots}-after.heapsnapshot`);
    const n = Math.max(1, subs.connect.connected);
    const perSub = (after.rss - before.rss) / n;
    const heapPerSub = after.heapUsed !== null && before.heapUsed !== null ? (after.heapUsed - before.heapUsed) / n : null;
    report.detail(
      S,
      `${subs.connect.connected}/${sizes.memorySubs} subscriptions connected in ${(subs.connect.ms / 1000).toFixed(1)} s over ${ctx.tenants.length} tenants × ${usersPerTenant(ctx.tenants, sizes.memorySubs)} agent(s), at most ${SOCKETS_PER_USER} sockets per agent${subs.connect.failed ? ` (${subs.connect.failed} failed: ${subs.connect.firstError})` : ''}, ${counts.withEvents} confirmed live; RSS ${(before.rss / 2 ** 20).toFixed(1)} MiB → ${(after.rss / 2 ** 20).toFixed(1)} MiB${heapPerSub !== null ? `, V8 heap in use ${(before.heapUsed! / 2 ** 20).toFixed(1)} MiB → ${(after.heapUsed! / 2 ** 20).toFixed(1)} MiB` : ''} (${sizes.memoryFreshServer ? 'fresh server, full GC forced through the inspector before sampling' : 'main server after the other scenarios, no forced GC'}; RSS: median of samples after settling)`,
    );
    report.add({ scenario: S, metric: 'server RSS, no subscriptions (MiB)', value: (before.rss / 2 ** 20).toFixed(1) });
    report.add({ scenario: S, metric: `server RSS, ${subs.connect.connected.toLocaleString('en-US')} idle subscriptions (MiB)`, value: (after.rss / 2 ** 20).toFixed(1) });
    if (heapPerSub !== null) report.add({ scenario: S, metric: 'of which V8 heap per subscription (KiB)', value: (heapPerSub / 1024).toFixed(1) });
    report.add({
      scenario: S,
      metric: 'RSS per idle subscription (KiB)',
      value: (perSub / 1024).toFixed(1),
      target: '≤ 10 KiB',
      // On a reused server the heap has already grown: the figure is indicative only.
      verdict: sizes.memoryFreshServer ? verdict(perSub <= 10 * 1024 && subs.connect.connected === sizes.memorySubs) : '',
    });
    report.headline.kibPerSub = (perSub / 1024).toFixed(1);

    // Issue 16: the same sockets, no longer idle: 100 msg/s to 10,000 subscriptions on one instance.
    const rate = 100;
    ctx.log(`memory: ${rate} msg/s to the ${subs.connect.connected} subscriptions for ${sizes.liveSeconds} s`);
    const { sent, expected, storedTotal, r, cpuPerMessage, cpuSplit } = await measureDelivery(ctx, server, subs, rate, sizes.liveSeconds, 'many100');
    report.detail(
      S,
      `${rate} msg/s to ${subs.connect.connected} subscriptions: sent ${sent.sent} (${sent.ok} answered 2xx; ${storedTotal} stored), webhook ${lat(sent.httpLatencyMs)}; events ${r.received}/${expected}; delivery ${lat(r.latencyMs)}; wrong tenant ${r.wrongTenant}, duplicates ${r.duplicates}; server CPU ${fmt(cpuPerMessage, 2)} ms per message (ingest + fan-out to ${fmt(expected / Math.max(1, storedTotal), 1)} subscribers; ${cpuSplit})`,
    );
    const full = subs.connect.connected >= 10_000;
    report.add({
      scenario: S,
      metric: `delivery p50/p95/p99 at ${rate} msg/s, ${subs.connect.connected.toLocaleString('en-US')} subs (ms)`,
      value: `${fmt(r.latencyMs.p50, 2)} / ${fmt(r.latencyMs.p95, 2)} / ${fmt(r.latencyMs.p99, 2)}`,
      target: 'p99 ≤ 50 ms (10,000 subs)',
      verdict: full ? verdict(r.latencyMs.p99 <= 50) : '',
    });
    report.add({
      scenario: S,
      metric: `events delivered at ${rate} msg/s; to the wrong tenant / duplicated`,
      value: `${r.received}/${expected}; ${r.wrongTenant} / ${r.duplicates}`,
      target: 'all; 0',
      verdict: r.received >= expected && storedTotal >= sent.ok && r.wrongTenant === 0 && r.duplicates === 0 ? 'OK' : 'FAIL',
    });
  } finally {
    await subs.close();
  }
  return server;
}
