/** What every scenario gets: sizes, the report, the bench database, the fake Twilio, the server. */
import type { FakeTwilio } from '../../src/sandbox/twilio-simulator.js';
import type { LoadJob, LoadResult } from '../workers/load.js';
import type { PacedJob, PacedResult } from '../workers/paced-sender.js';
import type { DbCeilingJob, DbCeilingResult } from '../workers/db-ceiling.js';
import type { LoadgenJob } from '../workers/loadgen.js';
import type { BenchDatabase } from './db.js';
import type { Features } from './gql.js';
import type { WindowProfiler } from './profiler.js';
import { postgresCpuMs, processCpuMs } from './cpu.js';
import { persistentWorker } from './procs.js';
import type { Report } from './report.js';
import type { Tenant } from './seed.js';
import type { ServerOptions, ServerUnderTest } from './server.js';
import { fmt, type LatencySummary } from './stats.js';

export interface Sizes {
  tenants: number;
  sendersPerTenant: number;
  ingestWarmup: number;
  fixedRate: number;
  fixedSeconds: number;
  saturation: number;
  saturationConnections: number;
  /**
   * Connections of ingest's scored saturation run and of its bare-Fastify ceiling (a): as many
   * webhooks in flight as ceiling (b) has statements in flight (64). A group-commit server is
   * not saturated by fewer: its batches grow with what is waiting. The run at
   * saturationConnections (32, the load of runs before 2026-12-05) stays as a detail line.
   */
  ingestConnections: number;
  fixedConnections: number;
  dbCeilingWarmup: number;
  liveSubs: number;
  liveRates: number[];
  liveSeconds: number;
  queryConversations: number;
  queryAgents: number;
  queryWarmupSeconds: number;
  querySeconds: number;
  queryConnections: number;
  /** Rounds of the peer comparison (queries): each a window of querySeconds / rounds on PostGraphile and one on ours. */
  queryPeerRounds: number;
  outbound: number;
  outboundConnections: number;
  memorySubs: number;
  /** Measure memory on a freshly started server (full) or on the main one (quick). */
  memoryFreshServer: boolean;
  /** Wait before sampling RSS (ms), and samples taken 250 ms apart. */
  memorySettleMs: number;
  memorySamples: number;
  pgliteTenants: number;
  pgliteWarmup: number;
  pgliteCount: number;
}

export const FULL: Sizes = {
  tenants: 100,
  sendersPerTenant: 1000,
  ingestWarmup: 3000,
  fixedRate: 1000,
  fixedSeconds: 20,
  saturation: 30_000,
  saturationConnections: 32,
  ingestConnections: 64,
  fixedConnections: 16,
  dbCeilingWarmup: 2000,
  liveSubs: 1000,
  liveRates: [200, 500],
  liveSeconds: 15,
  queryConversations: 10_000,
  queryAgents: 5,
  queryWarmupSeconds: 3,
  querySeconds: 15,
  queryConnections: 16,
  queryPeerRounds: 3,
  outbound: 10_000,
  outboundConnections: 16,
  memorySubs: 10_000,
  memoryFreshServer: true,
  memorySettleMs: 3000,
  memorySamples: 7,
  pgliteTenants: 20,
  pgliteWarmup: 1000,
  pgliteCount: 10_000,
};

export const QUICK: Sizes = {
  tenants: 10,
  sendersPerTenant: 200,
  ingestWarmup: 300,
  fixedRate: 1000,
  fixedSeconds: 1,
  saturation: 1500,
  saturationConnections: 32,
  ingestConnections: 64,
  fixedConnections: 16,
  dbCeilingWarmup: 200,
  liveSubs: 100,
  liveRates: [200, 500],
  liveSeconds: 2,
  queryConversations: 500,
  queryAgents: 2,
  queryWarmupSeconds: 1,
  querySeconds: 2,
  queryConnections: 16,
  queryPeerRounds: 1,
  outbound: 200,
  outboundConnections: 16,
  memorySubs: 300,
  memoryFreshServer: false,
  memorySettleMs: 500,
  memorySamples: 3,
  pgliteTenants: 3,
  pgliteWarmup: 50,
  pgliteCount: 300,
};

export interface Ctx {
  quick: boolean;
  sizes: Sizes;
  report: Report;
  runId: string;
  tmp: string;
  db: BenchDatabase;
  fake: FakeTwilio;
  server: ServerUnderTest;
  serverOptions: ServerOptions;
  tenants: Tenant[];
  features: Features;
  /** Whether a real signed webhook was stored (the route exists and works). */
  webhooksWork: boolean;
  /** CPU profiles of the measured windows (--profile), else a no-op. */
  profiler: WindowProfiler;
  /** Raw figures scenarios share (e.g. the Postgres ingest rate the PGlite row compares with). */
  metrics: Record<string, number>;
  log(line: string): void;
}

/** The load generator process (workers/loadgen.ts), shared by every scenario. */
export const loadgen = persistentWorker('loadgen', 'bench/workers/loadgen.ts', { echoStderr: true });

export interface ServerCpu {
  /** CPU ms the server process used per 2xx request during the run. */
  serverMsPerRequest: number;
  /** CPU ms all Postgres processes used per 2xx request (other clients of that Postgres included). */
  postgresMsPerRequest: number;
}

export type MeasuredLoad = LoadResult & { cpu?: ServerCpu };

/** An autocannon run; with serverPid, also the CPU the server (and Postgres) spent per request. */
export async function runLoad(job: LoadJob, serverPid?: number, timeoutMs = 300_000): Promise<MeasuredLoad> {
  const s0 = serverPid ? processCpuMs(serverPid) : NaN;
  const p0 = serverPid ? postgresCpuMs() : NaN;
  const result = await loadgen.call<LoadResult>({ type: 'job', job: { kind: 'autocannon', job } satisfies LoadgenJob }, timeoutMs);
  if (!serverPid || result.ok2xx === 0) return result;
  return {
    ...result,
    cpu: {
      serverMsPerRequest: (processCpuMs(serverPid) - s0) / result.ok2xx,
      postgresMsPerRequest: (postgresCpuMs() - p0) / result.ok2xx,
    },
  };
}

export function runPaced(job: PacedJob, timeoutMs = 300_000): Promise<PacedResult> {
  return loadgen.call<PacedResult>({ type: 'job', job: { kind: 'paced', job } satisfies LoadgenJob }, timeoutMs);
}

export function runDbCeiling(job: DbCeilingJob, timeoutMs = 300_000): Promise<DbCeilingResult> {
  return loadgen.call<DbCeilingResult>({ type: 'job', job: { kind: 'db-ceiling', job } satisfies LoadgenJob }, timeoutMs);
}

export function lat(l: LatencySummary): string {
  return `p50 ${fmt(l.p50, 2)} / p95 ${fmt(l.p95, 2)} / p99 ${fmt(l.p99, 2)} ms (max ${fmt(l.max, 1)})`;
}

export function loadLine(label: string, r: MeasuredLoad): string {
  const codes = Object.entries(r.statusCodes)
    .map(([c, n]) => `${c}×${n}`)
    .join(', ');
  return `${label}: ${r.ok2xx}/${r.amount} answered 2xx in ${(r.elapsedMs / 1000).toFixed(2)} s = ${fmt(r.throughput)}/s; ${lat(r.latencyMs)}; non-2xx ${r.non2xx}, errors ${r.errors} (timeouts ${r.timeouts}); status codes: ${codes || 'none'}${r.cpu ? `; CPU per request: server ${fmt(r.cpu.serverMsPerRequest, 2)} ms, Postgres ${fmt(r.cpu.postgresMsPerRequest, 2)} ms` : ''}`;
}

export function verdict(ok: boolean): 'PASS' | 'MISS' {
  return ok ? 'PASS' : 'MISS';
}
