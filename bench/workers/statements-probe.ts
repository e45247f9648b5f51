/**
 * SQL statements per GraphQL request, counted exactly: the server's own code (startApp) runs in
 * this process on the bench database (dispatcher and search-index merge off, so nothing else issues statements), and
 * app.deps.database.stats.statements (drizzle's query logger: every statement drizzle sends)
 * is read before and after each request. Each variant runs twice and the second (warm) count is
 * reported. The app is started (`start`) while the harness seeds, ahead of the counting (`job`). Statements sent outside drizzle (raw postgres.js: NOTIFY) are not counted; a query
 * issues none.
 */
import { startApp, type RunningApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { serve } from './ipc.js';

export interface ProbeVariant {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
}

export interface ProbeJob {
  token: string;
  variants: ProbeVariant[];
}

export interface ProbeResult {
  /** statements: the lowest of the warm counts (see count()). */
  variants: Array<{ name: string; statements: number; cold: number; warm: number[]; errors: string | null }>;
}

let app: RunningApp | null = null;

/** Starts the server's code here (dispatcher off) on the database given by env; done ahead of the counting. */
async function start(env: Record<string, string>): Promise<{ ok: true }> {
  // The search indexes' background merge (one statement a second) off too: it would land inside requests' counts.
  const config = loadConfig({ ...env, PORT: '0', HOST: '127.0.0.1', DISPATCHER_ENABLED: 'false', SEARCH_INDEX_MERGE_MS: '0', LOG_LEVEL: 'warn' });
  app = await startApp(config);
  return { ok: true };
}

const WARM_CALLS = 3;

async function count(job: ProbeJob): Promise<ProbeResult> {
  if (!app) throw new Error('probe not started');
  const out: ProbeResult['variants'] = [];
  for (const v of job.variants) {
    const counts: number[] = [];
    let errors: string | null = null;
    // One cold call, then WARM_CALLS: the app's own timers (presence, routing sweeps, the socket
    // registry) run statements that may land inside a request's count, never take one away, so the
    // lowest warm count is the request's (on a slow machine two warm calls were not enough).
    for (let i = 0; i < 1 + WARM_CALLS; i++) {
      const before = app.deps.database.stats.statements;
      const res = await fetch(`${app.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${job.token}` },
        body: JSON.stringify({ query: v.query, variables: v.variables ?? {} }),
      });
      const json = (await res.json()) as { errors?: unknown[] };
      if (json.errors) errors = JSON.stringify(json.errors).slice(0, 300);
      counts.push(app.deps.database.stats.statements - before);
    }
    const warm = counts.slice(1);
    out.push({ name: v.name, statements: Math.min(...warm), cold: counts[0]!, warm, errors });
  }
  return { variants: out };
}

serve<{ type: string; env?: Record<string, string>; job?: ProbeJob }>(async (m) => {
  if (m.type === 'start') return start(m.env!);
  if (m.type === 'job') return count(m.job!);
  return undefined;
});

process.on('SIGTERM', () => {
  void (app ? app.close() : Promise.resolve()).finally(() => process.exit(0));
});
