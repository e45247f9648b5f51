/**
 * 1. Inbound ingest, and the ceiling it is compared with.
 *
 * Signed webhooks prepared beforehand (100 tenants, random senders among a pool per tenant),
 * posted by autocannon in its own process: a warm-up, a fixed-rate run (autocannon overallRate),
 * the same rate evenly paced by our open-loop sender, and a saturation run at ingestConnections
 * (64: as many webhooks in flight as ceiling (b) has statements in flight), then an unscored one
 * at saturationConnections (32, the load of earlier runs: group commit's batches, and so its
 * throughput, grow with what is waiting). Then the database must hold every MessageSid exactly
 * once, under the right tenant, number and contact.
 *
 * Ceiling (a): a bare Fastify process answering the same requests with a constant TwiML, under
 * the same load as the scored saturation run.
 * Ceiling (b): the same writes issued straight to Postgres (workers/db-ceiling.ts), one message
 * per statement (and commit).
 * Ceiling (c): the same writes, 32 messages per statement (what the server's group commit does,
 * src/modules/inbound/ingest-batcher.ts). Ours is reported against min(a, c); the issue's
 * pass/fail ratios: ≥ 30% of (a) and ≥ 1.8× (b), measured in this one run.
 */
import type { DbCeilingJob } from '../workers/db-ceiling.js';
import { lat, loadLine, runDbCeiling, runLoad, runPaced, verdict, type Ctx, type MeasuredLoad } from '../lib/context.js';
import { postgresCpuMs } from '../lib/cpu.js';
import { spawnNode } from '../lib/procs.js';
import { freePort, serverMetrics } from '../lib/server.js';
import { fmt } from '../lib/stats.js';
import { prepareWebhooks, verifyIngest, writeRequests, type ExpectedMessage } from '../lib/webhooks.js';

const S = '1 ingest';

export async function ingestScenario(ctx: Ctx): Promise<void> {
  const { sizes, report } = ctx;
  if (!ctx.webhooksWork) {
    report.add({ scenario: S, metric: 'inbound webhooks', value: 'not available yet', verdict: 'SKIP' });
    return;
  }
  const origin = ctx.server.origin;
  const expected: ExpectedMessage[] = [];
  const prep = (name: string, count: number) => {
    const p = prepareWebhooks(ctx.tenants, count, { phase: name, sendersPerTenant: sizes.sendersPerTenant });
    expected.push(...p.expected);
    return { file: writeRequests(ctx.tmp, `ingest-${name}`, p.requests), count };
  };

  const fewerCount = Math.floor(sizes.saturation / 2);
  ctx.log(`ingest: preparing and signing ${sizes.ingestWarmup + sizes.fixedRate * sizes.fixedSeconds + sizes.saturation + fewerCount} webhooks`);
  const warm = prep('warm', sizes.ingestWarmup);
  const fixedFile = prep('fixed', sizes.fixedRate * sizes.fixedSeconds);
  const sat = prep('sat', sizes.saturation);
  const fewer = prep('sat-fewer', fewerCount);

  ctx.log('ingest: warm-up');
  const warmRun = await runLoad({ origin, requestsFile: warm.file, amount: warm.count, connections: sizes.ingestConnections });
  report.detail(S, loadLine('warm-up (not scored)', warmRun));

  ctx.log(`ingest: fixed rate ${sizes.fixedRate}/s for ${sizes.fixedSeconds} s (autocannon overallRate)`);
  const fixed = await runLoad(
    { origin, requestsFile: fixedFile.file, amount: fixedFile.count, connections: sizes.fixedConnections, overallRate: sizes.fixedRate },
    ctx.server.pid,
  );
  report.detail(S, loadLine(`fixed rate ${sizes.fixedRate}/s, ${sizes.fixedConnections} connections (autocannon overallRate)`, fixed));

  ctx.log(`ingest: fixed rate ${sizes.fixedRate}/s, evenly paced (open loop)`);
  const pacedCount = sizes.fixedRate * sizes.fixedSeconds;
  const paced = await runPaced({
    origin,
    targets: ctx.tenants.map((t) => ({ tenant: t.index, url: t.webhookUrl, authToken: t.authToken, accountSid: t.accountSid, to: t.e164 })),
    rate: sizes.fixedRate,
    count: pacedCount,
    phase: 'ingest-paced',
    sendersPerTenant: sizes.sendersPerTenant,
    maxInFlight: 256,
  });
  report.detail(
    S,
    `fixed rate ${sizes.fixedRate}/s evenly paced, open loop (workers/paced-sender.ts): ${paced.ok}/${paced.sent} 2xx at ${fmt(paced.achievedRate)}/s; ${lat(paced.httpLatencyMs)}; non-2xx ${paced.non2xx}, errors ${paced.errors}; sender max lag ${fmt(paced.maxLagMs, 1)} ms`,
  );

  ctx.log(`ingest: saturation, ${sat.count} webhooks over ${sizes.ingestConnections} connections`);
  const beforeSaturation = await batchCounts(origin);
  const saturation = await ctx.profiler.around('ingest-saturation', () =>
    runLoad({ origin, requestsFile: sat.file, amount: sat.count, connections: sizes.ingestConnections }, ctx.server.pid),
  );
  const afterSaturation = await batchCounts(origin);
  report.detail(S, `${loadLine(`saturation, ${sizes.ingestConnections} connections`, saturation)}; ${batchLine(beforeSaturation, afterSaturation)}`);

  ctx.log(`ingest: ${fewer.count} webhooks over ${sizes.saturationConnections} connections (not scored)`);
  const fewerRun = await runLoad({ origin, requestsFile: fewer.file, amount: fewer.count, connections: sizes.saturationConnections }, ctx.server.pid);
  const afterFewer = await batchCounts(origin);
  report.detail(S, `${loadLine(`${sizes.saturationConnections} connections, the load of earlier runs (not scored)`, fewerRun)}; ${batchLine(afterSaturation, afterFewer)}`);

  ctx.log('ingest: verifying the database');
  const check = await verifyIngest(ctx.db.sql, expected);
  const failedRequests = [warmRun, fixed, saturation, fewerRun].reduce((n, r) => n + r.non2xx + r.errors, 0);
  const missing = check.expected - check.stored;
  const [pacedRow] = await ctx.db.sql<{ rows: number; sids: number }[]>`
    select count(*)::int as rows, count(distinct twilio_sid)::int as sids from messages where body like 'bench|ingest-paced|%'`;
  const pacedMissing = paced.ok - (pacedRow?.sids ?? 0);
  const pacedDupes = (pacedRow?.rows ?? 0) - (pacedRow?.sids ?? 0);
  report.detail(
    S,
    `database check: ${check.stored}/${check.expected} prepared MessageSids stored, ${check.duplicates} duplicate rows, ${check.misrouted} misrouted; ${failedRequests} requests were not answered 2xx (may legitimately be missing); paced run: ${pacedRow?.sids ?? 0} stored of ${paced.ok} answered 2xx, ${pacedDupes} duplicates`,
  );

  // Ceilings.
  ctx.log('ingest: ceiling (a), bare Fastify');
  const bare = await bareCeiling(ctx, warm.file, warm.count, sat.file, sat.count);
  report.detail(S, loadLine('ceiling (a) bare Fastify, same requests, same settings', bare));

  ctx.log('ingest: ceiling (b), direct database writes');
  const dbJob: DbCeilingJob = {
    databaseUrl: ctx.db.url,
    tenants: ctx.tenants.map((t) => ({ tenantId: t.tenantId, accountId: t.accountId, e164: t.e164 })),
    count: sizes.saturation,
    warmup: sizes.dbCeilingWarmup,
    poolSize: 10,
    inFlight: 64,
    sendersPerTenant: sizes.sendersPerTenant,
  };
  const dbc = await measuredCeiling(dbJob);
  report.detail(
    S,
    `ceiling (b) direct writes (one prepared upsert-contact + conversation + insert-message + pg_notify statement per message, postgres.js pool of ${dbJob.poolSize}, ${dbJob.inFlight} in flight): ${dbc.count} in ${(dbc.elapsedMs / 1000).toFixed(2)} s = ${fmt(dbc.throughput)}/s; statement ${lat(dbc.latencyMs)}; ${dbc.stored} rows stored; Postgres CPU ${fmt(dbc.postgresMsPerMessage, 2)} ms per message`,
  );

  ctx.log('ingest: ceiling (c), direct database writes, 32 per statement');
  const batchedJob: DbCeilingJob = { ...dbJob, batch: 32, inFlight: 10 };
  const dbb = await measuredCeiling(batchedJob);
  report.detail(
    S,
    `ceiling (c) direct writes batched (the same writes, ${batchedJob.batch} messages per statement from one JSON parameter, postgres.js pool of ${batchedJob.poolSize}, ${batchedJob.inFlight} statements in flight): ${dbb.count} in ${(dbb.elapsedMs / 1000).toFixed(2)} s = ${fmt(dbb.throughput)}/s; statement ${lat(dbb.latencyMs)}; ${dbb.stored} rows stored; Postgres CPU ${fmt(dbb.postgresMsPerMessage, 2)} ms per message`,
  );
  const total = await batchCounts(origin);
  if (total) report.detail(S, `whole scenario: ${batchLine({ count: 0, sum: 0, fallbacks: 0 }, total)}`);

  // Rows.
  const ceiling = Math.min(bare.throughput, dbb.throughput);
  const ratio = saturation.throughput / ceiling;
  const ofBare = saturation.throughput / bare.throughput;
  const ofB = saturation.throughput / dbc.throughput;
  const zeroLoss = check.duplicates === 0 && check.misrouted === 0 && missing <= failedRequests && pacedDupes === 0 && pacedMissing <= 0;
  report.add({
    scenario: S,
    metric: 'saturation throughput (webhooks/s)',
    value: fmt(saturation.throughput),
    ceiling: `${fmt(ceiling)} (${bare.throughput <= dbb.throughput ? 'a' : 'c'})`,
    ratio: `${(ratio * 100).toFixed(0)}%`,
    target: '≥ 3,000/s',
    verdict: verdict(saturation.throughput >= 3000),
  });
  report.add({ scenario: S, metric: 'saturation latency p50/p95/p99 (ms)', value: triple(saturation), ceiling: triple(bare) });
  if (saturation.cpu) {
    report.add({
      scenario: S,
      metric: 'CPU per webhook at saturation: server / Postgres (ms)',
      value: `${fmt(saturation.cpu.serverMsPerRequest, 2)} / ${fmt(saturation.cpu.postgresMsPerRequest, 2)}`,
      ceiling: bare.cpu ? `${fmt(bare.cpu.serverMsPerRequest, 2)} (a)` : '',
    });
  }
  report.add({ scenario: S, metric: 'saturation non-2xx / errors', value: `${saturation.non2xx} / ${saturation.errors}`, ceiling: `${bare.non2xx} / ${bare.errors}` });
  report.add({ scenario: S, metric: 'ceiling (a) bare Fastify (req/s)', value: '', ceiling: fmt(bare.throughput), ratio: `${((saturation.throughput / bare.throughput) * 100).toFixed(0)}%` });
  report.add({ scenario: S, metric: 'ceiling (b) direct DB writes, 1 per statement (msg/s)', value: '', ceiling: fmt(dbc.throughput), ratio: `${((saturation.throughput / dbc.throughput) * 100).toFixed(0)}%` });
  report.add({ scenario: S, metric: 'ceiling (c) direct DB writes, 32 per statement (msg/s)', value: '', ceiling: fmt(dbb.throughput), ratio: `${((saturation.throughput / dbb.throughput) * 100).toFixed(0)}%` });
  report.add({ scenario: S, metric: 'share of ceiling min(a, c)', value: `${(ratio * 100).toFixed(0)}%`, target: '≥ 50%', verdict: verdict(ratio >= 0.5) });
  report.add({ scenario: S, metric: 'share of bare Fastify (a)', value: `${(ofBare * 100).toFixed(0)}%`, target: '≥ 30%', verdict: verdict(ofBare >= 0.3) });
  report.add({ scenario: S, metric: 'ratio to one-row-per-commit ceiling (b)', value: `${fmt(ofB, 2)}×`, target: '≥ 1.8×', verdict: verdict(ofB >= 1.8) });
  report.add({
    scenario: S,
    metric: `latency p50/p95/p99 at ${sizes.fixedRate}/s (ms)`,
    value: triple(fixed),
    target: 'p99 ≤ 25 ms',
    verdict: verdict(fixed.latencyMs.p99 <= 25 && fixed.ok2xx === fixed.amount),
  });
  report.add({ scenario: S, metric: `achieved rate / non-2xx / errors at ${sizes.fixedRate}/s`, value: `${fmt(fixed.throughput)} / ${fixed.non2xx} / ${fixed.errors}` });
  report.add({
    scenario: S,
    metric: `latency p50/p95/p99 at ${sizes.fixedRate}/s evenly paced (ms)`,
    value: `${fmt(paced.httpLatencyMs.p50, 2)} / ${fmt(paced.httpLatencyMs.p95, 2)} / ${fmt(paced.httpLatencyMs.p99, 2)}`,
  });
  report.add({
    scenario: S,
    metric: 'stored exactly once (lost / duplicated / misrouted)',
    value: `${check.stored}/${check.expected} (${missing} / ${check.duplicates} / ${check.misrouted})`,
    target: 'zero loss and duplicates',
    verdict: zeroLoss ? 'OK' : 'FAIL',
  });
  if (missing > 0) report.detail(S, `${missing} messages are missing, all accounted for by requests answered non-2xx or failed.`);

  ctx.metrics.ingestSaturation = saturation.throughput;
  report.headline.ingestSat = fmt(saturation.throughput);
  report.headline.ingestP99 = fmt(fixed.latencyMs.p99, 2);
  report.headline.ceilingRatio = `${(ratio * 100).toFixed(0)}%`;
}

type BatchCounts = { count: number; sum: number; fallbacks: number };

/** The server's group-commit histogram (inbound_batch_size) and fallbacks from /metrics; null when absent. */
async function batchCounts(origin: string): Promise<BatchCounts | null> {
  try {
    const [count, sum, fallbacks] = await serverMetrics(origin, ['inbound_batch_size_count', 'inbound_batch_size_sum', 'inbound_batch_fallbacks_total']);
    if (!Number.isFinite(count) || !Number.isFinite(sum)) return null;
    return { count: count!, sum: sum!, fallbacks: Number.isFinite(fallbacks) ? fallbacks! : 0 };
  } catch {
    return null;
  }
}

/** Texts per ingest statement between two scrapes. */
function batchLine(from: BatchCounts | null, to: BatchCounts | null): string {
  if (!from || !to) return 'group commit: no /metrics';
  const statements = to.count - from.count;
  const texts = to.sum - from.sum;
  return `group commit (/metrics inbound_batch_size): ${texts} texts in ${statements} statements, ${fmt(texts / Math.max(1, statements), 1)} per statement; ${to.fallbacks - from.fallbacks} batches re-run one by one`;
}

function triple(r: MeasuredLoad): string {
  return `${fmt(r.latencyMs.p50, 2)} / ${fmt(r.latencyMs.p95, 2)} / ${fmt(r.latencyMs.p99, 2)}`;
}

async function bareCeiling(ctx: Ctx, warmFile: string, warmCount: number, file: string, count: number): Promise<MeasuredLoad> {
  const port = await freePort();
  const bare = spawnNode('bare-fastify', 'bench/workers/bare-server.ts', { env: { PORT: String(port) }, echoStderr: true });
  try {
    await bare.waitForLine(/bare server ready at/, 30_000);
    const origin = `http://127.0.0.1:${port}`;
    await runLoad({ origin, requestsFile: warmFile, amount: warmCount, connections: ctx.sizes.ingestConnections });
    return await runLoad({ origin, requestsFile: file, amount: count, connections: ctx.sizes.ingestConnections }, bare.pid);
  } finally {
    await bare.stop(3000);
  }
}

/**
 * A database ceiling and Postgres's CPU per message over its whole run (schema copy and warm-up
 * included, so slightly above the scored window's): beside the server's own per-webhook figure it
 * says how much of the gap to the ceiling is Postgres work the ceiling's statement leaves out.
 */
async function measuredCeiling(job: DbCeilingJob) {
  const before = postgresCpuMs();
  const result = await runDbCeiling(job);
  return { ...result, postgresMsPerMessage: (postgresCpuMs() - before) / (job.count + job.warmup) };
}
