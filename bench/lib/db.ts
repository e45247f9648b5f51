/** The bench database: created fresh per run on BENCH_DATABASE_URL's server, dropped at the end. */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

export const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/test';
const PREFIX = 'sms_bench_';

export interface BenchDatabase {
  name: string;
  url: string;
  /** A small pool on the bench database, for seeding shortcuts and verification. */
  sql: postgres.Sql;
  serverVersion: string;
  drop(): Promise<void>;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

function assertLoopback(url: string): void {
  const host = new URL(url).hostname;
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)) {
    throw new Error(`BENCH_DATABASE_URL must point at a loopback address (got ${host}): the benchmark only talks to this machine`);
  }
}

/**
 * Drops bench databases left by runs that died without cleaning up: their name carries the
 * harness pid, and a database is only dropped when that process is gone and nobody is connected.
 */
async function dropStale(admin: postgres.Sql): Promise<string[]> {
  const rows = await admin<{ datname: string; connections: number }[]>`
    select d.datname, (select count(*) from pg_stat_activity a where a.datname = d.datname)::int as connections
    from pg_database d where d.datname like ${PREFIX + '%'}`;
  const dropped: string[] = [];
  for (const { datname, connections } of rows) {
    const pid = Number(/^sms_bench_\d+_(\d+)_/.exec(datname)?.[1] ?? NaN);
    if (!Number.isFinite(pid) || connections > 0 || pidAlive(pid)) continue;
    await admin.unsafe(`drop database if exists "${datname}" with (force)`);
    dropped.push(datname);
  }
  return dropped;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function createBenchDatabase(adminUrl: string): Promise<BenchDatabase> {
  assertLoopback(adminUrl);
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  const name = `${PREFIX}${Math.floor(Date.now() / 1000)}_${process.pid}_${randomBytes(3).toString('hex')}`;
  let serverVersion = '';
  try {
    const stale = await dropStale(admin);
    if (stale.length > 0) process.stderr.write(`dropped ${stale.length} stale bench database(s): ${stale.join(', ')}\n`);
    await admin.unsafe(`create database "${name}"`);
    const [v] = await admin<{ server_version: string }[]>`show server_version`;
    serverVersion = v?.server_version ?? '?';
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = withDatabase(adminUrl, name);
  const sql = postgres(url, { max: 4, onnotice: () => {} });
  let dropped = false;
  return {
    name,
    url,
    sql,
    serverVersion,
    async drop() {
      if (dropped) return;
      dropped = true;
      await sql.end({ timeout: 2 }).catch(() => {});
      // Kept for a look afterwards (pg_waldump's relations, EXPLAIN on the run's data); the next run drops it.
      if (process.env.BENCH_KEEP_DB) return;
      const a = postgres(adminUrl, { max: 1, onnotice: () => {} });
      try {
        await a.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await a.end({ timeout: 5 });
      }
    },
  };
}
