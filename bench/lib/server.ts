/** The server under test: `node --import tsx src/main.ts` in its own process, configured by env only. */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { ROOT, spawnNode, type Child } from './procs.js';

/**
 * Every setting src/config.ts reads (the keys of its env schema, read from the source so new
 * settings are covered). Those we do not set are blanked (loadConfig treats '' as unset), so the
 * caller's environment cannot leak into the server under test.
 */
function configKeys(): string[] {
  const source = readFileSync(resolve(ROOT, 'src/config.ts'), 'utf8');
  const start = source.indexOf('z.object({');
  const end = source.indexOf('\n});', start);
  const keys = [...source.slice(start, end).matchAll(/^\s{2}([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]!);
  return keys.length > 0 ? keys : ['DATABASE_URL', 'DATA_DIR', 'REDIS_URL', 'PUBLIC_URL', 'PORT', 'HOST'];
}

export interface ServerOptions {
  name: string;
  port: number;
  /** Postgres URL, or null for the embedded PGlite in dataDir. */
  databaseUrl: string | null;
  dataDir?: string;
  jwtSecret: string;
  encryptionKey: string;
  redisUrl?: string | null;
  /** Start with --inspect on a random loopback port, for CPU profiles of chosen windows (lib/profiler.ts). */
  inspect?: boolean;
  extraEnv?: Record<string, string>;
}

export interface ServerUnderTest {
  name: string;
  child: Child;
  pid: number;
  /** http://127.0.0.1:PORT */
  origin: string;
  /** PUBLIC_URL: what webhook URLs (and so signatures) are built on. */
  publicUrl: string;
  graphqlUrl: string;
  wsUrl: string;
  /** ws:// URL of the V8 inspector when started with `inspect`. */
  inspectorUrl: string | null;
  stop(): Promise<void>;
}

export const BENCH_METRICS_TOKEN = 'bench-metrics-token';

/** A counter or gauge of the server's /metrics (NaN when absent). */
export async function serverMetric(origin: string, name: string): Promise<number> {
  return (await serverMetrics(origin, [name]))[0]!;
}

/**
 * Several unlabelled metrics from one scrape, in the order asked (NaN when absent). A scrape also
 * resets prom-client's event-loop-lag histogram, so a scrape before a window and one after it
 * give the lag within the window.
 */
export async function serverMetrics(origin: string, names: string[]): Promise<number[]> {
  const res = await fetch(`${origin}/metrics`, { headers: { authorization: `Bearer ${BENCH_METRICS_TOKEN}` } });
  const lines = (await res.text()).split('\n');
  return names.map((name) => {
    const line = lines.find((l) => l.startsWith(`${name} `));
    return line ? Number(line.slice(name.length + 1)) : NaN;
  });
}

export function serverEnv(opts: ServerOptions): Record<string, string> {
  const env: Record<string, string> = Object.fromEntries(configKeys().map((k) => [k, '']));
  Object.assign(env, {
    NODE_ENV: 'production',
    PORT: String(opts.port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://127.0.0.1:${opts.port}`,
    JWT_SECRET: opts.jwtSecret,
    ENCRYPTION_KEY: opts.encryptionKey,
    LOG_LEVEL: 'warn',
    PACING_ENABLED: 'false',
    // The fake Twilio listens on loopback.
    OUTBOUND_ALLOW_PRIVATE: 'true',
    // Production accepts an http API root only for allow-listed hosts: the fake Twilio's.
    TWILIO_API_ALLOWED_HOSTS: '127.0.0.1,localhost',
    // Every tenant of a run signs up from this one address.
    SIGNUP_MAX_PER_ADDRESS: '100000',
    // DISPATCHER_POLL_MS stays at its default (500 ms): a reply wakes this instance's dispatcher
    // at once, and a 50 ms poll (the dispatcher's and the campaign runner's, three statements a
    // round) cost more statements per second than ingest at 1,000 webhooks/s.
    // The harness reads the schema to skip scenarios whose operations are not there.
    GRAPHQL_INTROSPECTION: 'true',
    // /metrics in production needs a token; the harness reads db_statements_total.
    METRICS_TOKEN: BENCH_METRICS_TOKEN,
    ...(opts.databaseUrl ? { DATABASE_URL: opts.databaseUrl } : { DATA_DIR: opts.dataDir ?? '' }),
    ...(opts.redisUrl ? { REDIS_URL: opts.redisUrl } : {}),
    ...opts.extraEnv,
    // Experiments: BENCH_SERVER_ENV="INGEST_BATCH_MAX=64,INGEST_BATCH_CONCURRENCY=1" overrides any setting.
    ...Object.fromEntries(
      (process.env.BENCH_SERVER_ENV ?? '')
        .split(',')
        .filter((kv) => kv.includes('='))
        .map((kv) => [kv.slice(0, kv.indexOf('=')).trim(), kv.slice(kv.indexOf('=') + 1).trim()]),
    ),
  });
  return env;
}

/**
 * The Node flags `npm start` gives the server (package.json's start script: the young generation's
 * size, README "Two commands"), so the benchmark measures the process that is shipped.
 */
function startNodeFlags(): string[] {
  const scripts = (JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  return scripts.start!.split(/\s+/).filter((arg) => arg.startsWith('--'));
}

export async function startServer(opts: ServerOptions, readyTimeoutMs = 60_000): Promise<ServerUnderTest> {
  const child = spawnNode(opts.name, 'src/main.ts', {
    env: serverEnv(opts),
    nodeArgs: [...startNodeFlags(), ...(opts.inspect ? ['--inspect=127.0.0.1:0'] : [])],
    echoStderr: true,
  });
  let inspectorUrl: string | null = null;
  try {
    if (opts.inspect) inspectorUrl = /(ws:\/\/\S+)/.exec(await child.waitForLine(/Debugger listening on ws:/, readyTimeoutMs))![1]!;
    await child.waitForLine(/ready at http/, readyTimeoutMs);
  } catch (err) {
    await child.stop(2000);
    throw err;
  }
  const origin = `http://127.0.0.1:${opts.port}`;
  return {
    name: opts.name,
    child,
    pid: child.pid,
    origin,
    publicUrl: origin,
    graphqlUrl: `${origin}/graphql`,
    wsUrl: `ws://127.0.0.1:${opts.port}/graphql`,
    inspectorUrl,
    stop: () => child.stop(15_000),
  };
}

/** A port free right now on 127.0.0.1 (the kernel's choice). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Resident set size of a process in bytes (VmRSS in /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}
