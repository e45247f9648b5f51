/**
 * The benchmark harness: `npm run bench [-- --quick] [--no-write] [--only=ingest,live] [--profile] [--redis]`.
 *
 * Starts the real server (`node --import tsx src/main.ts`) on a fresh Postgres database, the fake
 * Twilio (in this process), seeds tenants through the GraphQL API, runs the scenarios with the
 * load in separate processes, prints a table and writes bench/results.md. See bench/README.md.
 *
 * Exit code: 0 when the run completed and the data is intact (whatever the performance),
 * 1 when data was lost, duplicated or misrouted or a scenario could not run, 2 when the harness
 * itself failed.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { startFakeTwilio, inboundSmsParams, signedFormPost } from '../src/sandbox/twilio-simulator.js';
import { FULL, QUICK, loadgen, type Ctx } from './lib/context.js';
import { createBenchDatabase, DEFAULT_ADMIN_URL } from './lib/db.js';
import { busyFraction, cpuSnapshot, foreignCores, loadAverage, waitForIdle } from './lib/cpu.js';
import { detectFeatures } from './lib/gql.js';
import { machineInfo } from './lib/machine.js';
import { pgStatementsUnavailable, withPgStatements } from './lib/pg-statements.js';
import { connectProfiler, noProfiler } from './lib/profiler.js';
import { installExitHandlers, interrupted, onCleanup, ROOT, shutdown } from './lib/procs.js';
import { Report, renderResults, writeResults } from './lib/report.js';
import { seedTenants, senderNumber } from './lib/seed.js';
import { freePort, startServer, type ServerOptions, type ServerUnderTest } from './lib/server.js';
import { fmt } from './lib/stats.js';
import { subscriberProcess } from './lib/subscribers.js';
import { ingestScenario } from './scenarios/ingest.js';
import { liveScenario } from './scenarios/live.js';
import { memoryScenario } from './scenarios/memory.js';
import { outboundScenario } from './scenarios/outbound.js';
import { pgliteScenario, type PgliteSetup } from './scenarios/pglite.js';
import { queriesScenario } from './scenarios/queries.js';
import { reportsScenario } from './scenarios/reports.js';
import { campaignsScenario } from './scenarios/campaigns.js';
import { searchScenario } from './scenarios/search.js';
import { footprintScenario } from './scenarios/footprint.js';
import { routingScenario } from './scenarios/routing.js';

const SCENARIOS = ['ingest', 'live', 'queries', 'outbound', 'memory', 'pglite', 'search', 'reports', 'campaigns', 'routing', 'footprint'] as const;
type Scenario = (typeof SCENARIOS)[number];

interface Args {
  quick: boolean;
  write: boolean;
  only: Set<Scenario>;
  profile: boolean;
  /** Postgres's statement statistics over each scored window (pg_stat_statements). */
  pgStatements: boolean;
  redis: boolean;
  /** Wait up to this many seconds for the machine to be idle before starting (0: do not wait). */
  waitIdleS: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, write: true, only: new Set(SCENARIOS), profile: false, pgStatements: false, redis: false, waitIdleS: 0 };
  for (const a of argv) {
    if (a === '--quick') args.quick = true;
    else if (a === '--no-write') args.write = false;
    else if (a === '--profile') args.profile = true;
    else if (a === '--pg-statements') args.pgStatements = true;
    else if (a === '--redis') args.redis = true;
    else if (a === '--wait-idle') args.waitIdleS = 600;
    else if (a.startsWith('--wait-idle=')) args.waitIdleS = Number(a.slice('--wait-idle='.length)) || 0;
    else if (a.startsWith('--only=')) {
      const names = a.slice('--only='.length).split(',').map((s) => s.trim()).filter(Boolean);
      for (const n of names) if (!(SCENARIOS as readonly string[]).includes(n)) usage(`unknown scenario "${n}"`);
      args.only = new Set(names as Scenario[]);
    } else if (a === '--help' || a === '-h') usage();
    else usage(`unknown option "${a}"`);
  }
  return args;
}

function usage(error?: string): never {
  if (error) process.stderr.write(`${error}\n`);
  process.stderr.write(
    `usage: npm run bench -- [--quick] [--no-write] [--only=${SCENARIOS.join(',')}] [--profile] [--pg-statements] [--redis] [--wait-idle[=s]]\n` +
      '  --quick     small counts, under a minute (CI smoke); still every scenario\n' +
      '  --no-write  print the table only; do not write bench/results.md\n' +
      '  --only=…    run only these scenarios (comma-separated)\n' +
      '  --profile   CPU- and allocation-profile the server over each scored window (inspector); summaries printed, files in bench/profiles/\n' +
      '  --pg-statements  the costliest Postgres statements over each scored window (needs pg_stat_statements loaded); files in bench/profiles/\n' +
      '  --redis     live events through Redis (BENCH_REDIS_URL, default redis://127.0.0.1:6379) instead of LISTEN/NOTIFY\n' +
      '  --wait-idle[=s]  first wait (default at most 600 s) until the machine is under 15% busy\n',
  );
  process.exit(error ? 2 : 0);
}

const started = performance.now();
const log = (line: string) => process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}\n`);

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  installExitHandlers();
  const sizes = args.quick ? QUICK : FULL;
  const report = new Report();
  const runId = randomBytes(3).toString('hex');
  const want = (s: Scenario) => args.only.has(s);
  const busyBefore = args.waitIdleS > 0 ? await waitForIdle(0.15, args.waitIdleS * 1000, log) : await busyFraction(1000);
  const loadBefore = loadAverage();
  if (busyBefore > 0.25) log(`warning: the machine is ${(busyBefore * 100).toFixed(0)}% busy before the run (load ${loadBefore}); figures will suffer (--wait-idle waits for calm)`);
  const runCpu = cpuSnapshot();

  removeStaleTempDirs();
  const tmp = mkdtempSync(join(os.tmpdir(), `sms-bench-${process.pid}-`));
  onCleanup(() => rmSync(tmp, { recursive: true, force: true }));

  const adminUrl = process.env.BENCH_DATABASE_URL || DEFAULT_ADMIN_URL;
  const db = await createBenchDatabase(adminUrl);
  onCleanup(() => db.drop());
  log(`bench database ${db.name} (PostgreSQL ${db.serverVersion})`);
  const machine = machineInfo(db.serverVersion);

  const fake = await startFakeTwilio();
  onCleanup(() => fake.close());

  const profDir = resolve(ROOT, 'bench/profiles');
  if (args.profile || args.pgStatements) mkdirSync(profDir, { recursive: true });
  const secrets = { jwtSecret: randomBytes(36).toString('base64url'), encryptionKey: randomBytes(32).toString('base64') };
  const serverOptions: ServerOptions = {
    name: 'server',
    port: await freePort(),
    databaseUrl: db.url,
    ...secrets,
    redisUrl: args.redis ? process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379' : null,
    inspect: args.profile,
  };

  // The PGlite server starts first (init + migrations, the slowest start: ~10 s of PGlite initdb,
  // single-threaded) while the main one starts and is seeded; its scenario runs first, while the
  // main server is idle. The helper processes start now too (~1.5 s each).
  void loadgen.child.catch(() => {});
  void subscriberProcess.child.catch(() => {});
  let pglite: Promise<PgliteSetup> | null = null;
  if (want('pglite')) {
    const dataDir = join(tmp, 'pglite-data');
    const t0 = performance.now();
    pglite = freePort().then((port) =>
      startServer({ name: 'pglite-server', port, databaseUrl: null, dataDir, ...secrets }, 120_000).then((server) => ({
        server,
        dataDir,
        tenants: [],
        startupMs: performance.now() - t0,
      })),
    );
    pglite.then((p) => onCleanup(() => p.server.stop()), () => {});
  }

  log(`starting the server (port ${serverOptions.port})`);
  let server: ServerUnderTest = await startServer(serverOptions);
  onCleanup(() => server.stop());
  const features = await detectFeatures(server.graphqlUrl);
  const canSeed = ['signUp', 'connectTwilioAccount', 'addPhoneNumber', 'createAgent', 'logIn'].every((m) => features.mutations.has(m));
  if (!canSeed) {
    report.add({ scenario: 'setup', metric: 'seeding (signUp, connectTwilioAccount, addPhoneNumber, createAgent)', value: 'not available yet', verdict: 'SKIP' });
  }

  log(`seeding ${sizes.tenants} tenants through the API${pglite ? ` (and ${sizes.pgliteTenants} on the PGlite server)` : ''}`);
  const seedStart = performance.now();
  const pgliteSeeded = pglite && canSeed
    ? pglite.then(async (p) => ({ ...p, tenants: await seedTenants(p.server.graphqlUrl, fake, sizes.pgliteTenants, runId, { concurrency: 2, label: 'Embedded' }) }))
    : null;
  pgliteSeeded?.catch(() => {});
  const tenants = canSeed ? await seedTenants(server.graphqlUrl, fake, sizes.tenants, runId) : [];
  report.detail('setup', `${tenants.length} tenants seeded through the GraphQL API in ${((performance.now() - seedStart) / 1000).toFixed(1)} s (signUp, connectTwilioAccount against the fake Twilio, addPhoneNumber, createAgent + logIn)`);

  const webhooksWork = tenants.length > 0 && (await probeWebhook(tenants[0]!));
  if (tenants.length > 0 && !webhooksWork) {
    report.add({ scenario: 'setup', metric: 'inbound webhook route', value: 'not available yet', verdict: 'SKIP' });
  }

  const ctx: Ctx = {
    quick: args.quick,
    sizes,
    report,
    runId,
    tmp,
    db,
    fake,
    server,
    serverOptions,
    tenants,
    features,
    webhooksWork,
    metrics: {},
    profiler: noProfiler,
    log,
  };
  const profileLabel = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '');
  if (args.profile && server.inspectorUrl) ctx.profiler = await connectProfiler(server.inspectorUrl, profDir, profileLabel);
  if (args.pgStatements) {
    const unavailable = await pgStatementsUnavailable(db.sql);
    if (unavailable) log(`--pg-statements: ${unavailable}`);
    else ctx.profiler = withPgStatements(ctx.profiler, db.sql, profDir, profileLabel);
  }

  const foreign: string[] = [];
  const guard = async (scenario: string, fn: () => Promise<void>) => {
    if (interrupted()) return;
    const cpu0 = cpuSnapshot();
    try {
      await fn();
      const cores = foreignCores(cpu0, cpuSnapshot(), os.cpus().length);
      foreign.push(`${scenario} ${cores.toFixed(2)}`);
      if (cores > 0.2) report.detail(scenario, `other processes on the machine used ~${cores.toFixed(2)} cores on average during this scenario: figures are disturbed`);
    } catch (err) {
      const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
      log(`${scenario} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      report.add({ scenario, metric: 'scenario failed', value: message.slice(0, 160), verdict: 'ERROR' });
      report.detail(scenario, `failed: ${message}`);
    }
  };

  let pgliteRow: Awaited<ReturnType<typeof pgliteScenario>> | null = null;
  if (pglite) {
    await guard('6 PGlite', async () => {
      if (!pgliteSeeded) throw new Error('seeding is not available');
      const setup = await pgliteSeeded;
      if (!(await probeWebhook(setup.tenants[0]!))) {
        report.add({ scenario: '6 PGlite', metric: 'inbound webhooks', value: 'not available yet', verdict: 'SKIP' });
        await setup.server.stop();
        return;
      }
      pgliteRow = await pgliteScenario(ctx, setup);
    });
  }
  if (want('ingest')) await guard('1 ingest', () => ingestScenario(ctx));
  if (want('live')) await guard('2 live', () => liveScenario(ctx));
  if (want('queries')) await guard('3 queries', () => queriesScenario(ctx));
  if (want('outbound')) await guard('4 outbound', () => outboundScenario(ctx));
  if (want('search')) await guard('7 search', () => searchScenario(ctx));
  if (want('reports')) await guard('8 reports', () => reportsScenario(ctx));
  if (want('campaigns')) await guard('9 campaigns', () => campaignsScenario(ctx));
  if (want('routing')) await guard('10 routing', () => routingScenario(ctx));
  if (want('footprint')) await guard('12 footprint', () => footprintScenario(ctx));
  if (want('memory')) {
    await guard('5 memory', async () => {
      server = await memoryScenario(ctx);
      ctx.server = server;
    });
  }

  if (interrupted()) return 130;
  const p = pgliteRow as Awaited<ReturnType<typeof pgliteScenario>> | null;
  if (p && ctx.metrics.ingestSaturation) {
    p.row.ceiling = `${fmt(ctx.metrics.ingestSaturation)} (Postgres)`;
    p.row.ratio = `${((p.throughput / ctx.metrics.ingestSaturation) * 100).toFixed(0)}%`;
  }

  // Stop the servers and the helper processes, then print.
  await ctx.profiler.close();
  await server.stop();
  await Promise.all([loadgen.stop(), subscriberProcess.stop()]);
  const elapsedS = (performance.now() - started) / 1000;
  process.stdout.write(`\n${report.table(false)}\n\n`);
  const rankOf = (name: string) => (/^\d+/.test(name) ? Number(/^\d+/.exec(name)![0]) : 0);
  for (const [scenario, lines] of [...report.details].sort((a, b) => rankOf(a[0]) - rankOf(b[0]))) {
    process.stdout.write(`${scenario}\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
  }

  for (const [name, text] of ctx.profiler.summaries) process.stdout.write(`\n== profile: ${name} ==\n${text}\n`);

  const settings = {
    mode: args.quick ? 'quick' : args.only.size < SCENARIOS.length ? `partial (${[...args.only].join(', ')})` : 'full',
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    lines: [
      `Machine before the run: ${(busyBefore * 100).toFixed(0)}% busy, load average ${loadBefore}; other processes (excluding Postgres) used on average, in cores: ${foreign.join(', ') || '–'}; whole run ${foreignCores(runCpu, cpuSnapshot(), os.cpus().length).toFixed(2)}`,
      `Server: \`node --import tsx src/main.ts\`, NODE_ENV=production, LOG_LEVEL=warn, PACING_ENABLED=false, DISPATCHER_POLL_MS default (500), DATABASE_POOL_SIZE default (10), live events over ${args.redis ? 'Redis' : 'Postgres LISTEN/NOTIFY'}${args.profile ? ', profiled through the inspector (slower)' : ''}`,
      `Postgres: ${adminUrl.replace(/\/\/[^@]*@/, '//')} server, fresh database per run; Twilio simulator (src/sandbox/twilio-simulator.ts) in the harness process`,
      `Load: autocannon ${autocannonVersion()} in its own process (pipelining 1); webhooks prepared and signed before each run; live traffic from an open-loop paced sender; subscriptions held by a separate client process`,
      `Sizes: ${Object.entries(sizes).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('/') : String(v)}`).join(', ')}`,
    ],
  };
  if (args.write) {
    const file = resolve(ROOT, 'bench/results.md');
    writeResults(file, renderResults(file, machine, settings, report, elapsedS));
    log(`wrote ${file}`);
  }
  log(`done in ${elapsedS.toFixed(0)} s${report.failed ? ' — with failures (see FAIL/ERROR rows)' : ''}`);
  return report.failed ? 1 : 0;
}

/** Temporary folders of harnesses that died without cleaning up (their pid is in the name). */
function removeStaleTempDirs(): void {
  for (const name of readdirSync(os.tmpdir())) {
    const m = /^sms-bench-(\d+)-/.exec(name);
    if (!m) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') rmSync(join(os.tmpdir(), name), { recursive: true, force: true });
    }
  }
}

function autocannonVersion(): string {
  try {
    return (JSON.parse(readFileSync(resolve(ROOT, 'node_modules/autocannon/package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

/** One real signed webhook: does the route exist and store? (404 from Fastify's router = not built yet.) */
async function probeWebhook(t: { webhookUrl: string; authToken: string; accountSid: string; e164: string; index: number }): Promise<boolean> {
  try {
    const res = await signedFormPost(
      t.webhookUrl,
      t.authToken,
      inboundSmsParams({ accountSid: t.accountSid, from: senderNumber(999_999), to: t.e164, body: `bench|probe|t${t.index}|s0|ts0| hello` }),
    );
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

let code = 2;
try {
  code = await main();
} catch (err) {
  if (!interrupted()) process.stderr.write(`\nbenchmark harness failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  code = 2;
} finally {
  await shutdown();
}
process.exit(interrupted() ? 130 : code);
