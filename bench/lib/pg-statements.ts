/**
 * Postgres's side of a profile: with --pg-statements, each scored window (the same windows
 * --profile samples the server over) resets pg_stat_statements before and reads it after, and
 * reports the bench database's costliest statements: calls, execution time, rows, shared buffers
 * touched and WAL written per call. The server's CPU profile says where Node spends its time; this
 * says which of our statements Postgres spends its own on (the larger half of most scenarios' CPU
 * per message), which the CPU totals alone cannot.
 *
 * The extension has to be loaded by the server (`shared_preload_libraries`, a restart): the
 * harness never changes the configuration of a Postgres it did not start. Without it, the option
 * says how to load it and the run goes on unprofiled.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type postgres from 'postgres';
import type { WindowProfiler } from './profiler.js';

const TOP = 12;

interface StatementRow {
  calls: number;
  total_ms: number;
  rows: number;
  hit: number;
  read: number;
  dirtied: number;
  wal_bytes: number;
  query: string;
}

/**
 * Whether this server collects statement statistics; creates the extension's view in the bench
 * database when it does. Null when usable, else why not (one line).
 */
export async function pgStatementsUnavailable(sql: postgres.Sql): Promise<string | null> {
  const [row] = await sql<{ setting: string }[]>`select setting from pg_settings where name = 'shared_preload_libraries'`;
  if (!/\bpg_stat_statements\b/.test(row?.setting ?? '')) {
    return "pg_stat_statements is not loaded by this Postgres: ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements', restart it, and run again";
  }
  await sql`create extension if not exists pg_stat_statements`;
  return null;
}

/** `inner` (the CPU profiler or none) plus, around each window, the bench database's statement statistics. */
export function withPgStatements(inner: WindowProfiler, sql: postgres.Sql, dir: string, label: string): WindowProfiler {
  const summaries = new Map<string, string>();
  return {
    summaries,
    async around(name, fn) {
      await sql`select pg_stat_statements_reset()`;
      try {
        return await inner.around(name, fn);
      } finally {
        for (const [k, v] of inner.summaries) summaries.set(k, v);
        const rows = await costliest(sql);
        const text = summarize(rows);
        writeFileSync(join(dir, `${label}-${name}.pg.txt`), `${text}\n\nStatements in full:\n\n${rows.map((r, i) => `-- ${i + 1}\n${r.query}`).join('\n\n')}\n`);
        summaries.set(`${name} (Postgres statements)`, text);
      }
    },
    retarget: (url) => inner.retarget(url),
    close: () => inner.close(),
  };
}

async function costliest(sql: postgres.Sql): Promise<StatementRow[]> {
  // The view's own statement and the reset are the harness's, not the server's.
  return sql<StatementRow[]>`
    select s.calls::float8 as calls, s.total_exec_time as total_ms, s.rows::float8 as rows,
      s.shared_blks_hit::float8 as hit, s.shared_blks_read::float8 as read, s.shared_blks_dirtied::float8 as dirtied,
      s.wal_bytes::float8 as wal_bytes, s.query
    from pg_stat_statements s
    join pg_database d on d.oid = s.dbid and d.datname = current_database()
    where s.query not like '%pg_stat_statements%'
    order by s.total_exec_time desc
    limit ${TOP}`;
}

function summarize(rows: StatementRow[]): string {
  const total = rows.reduce((sum, r) => sum + r.total_ms, 0);
  const head = `Postgres execution time of the ${rows.length} costliest statements: ${total.toFixed(0)} ms (pg_stat_statements over the window, this database; planning and commit not included)`;
  const cols = ['share', 'calls', 'ms/call', 'rows/call', 'buffers/call', 'dirtied/call', 'WAL kB/call', 'statement'];
  const lines = rows.map((r) => {
    const per = (v: number) => v / Math.max(1, r.calls);
    return [
      `${((r.total_ms / Math.max(total, 1e-9)) * 100).toFixed(1)}%`,
      String(r.calls),
      per(r.total_ms).toFixed(3),
      per(r.rows).toFixed(1),
      per(r.hit + r.read).toFixed(0),
      per(r.dirtied).toFixed(1),
      (per(r.wal_bytes) / 1024).toFixed(1),
      r.query.replace(/\s+/g, ' ').trim().slice(0, 110),
    ];
  });
  const widths = cols.map((c, i) => Math.max(c.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padStart(widths[i]!))).join('  ');
  return [head, row(cols), ...lines.map(row)].join('\n');
}
