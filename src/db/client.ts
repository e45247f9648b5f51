import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { PGlite } from '@electric-sql/pglite';
import { btree_gin } from '@electric-sql/pglite/contrib/btree_gin';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { unaccent } from '@electric-sql/pglite/contrib/unaccent';
import { sql } from 'drizzle-orm';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import postgres from 'postgres';
import type { Logger } from 'pino';
import * as schema from './schema.js';
import { PGLITE_IMAGE_ROOT, copyPgliteImage, isNewPgliteDir, pgliteImageKey } from './pglite-image.js';

/** The search migration creates these; on Postgres they come with the server's contrib package. */
export const PGLITE_EXTENSIONS = { pg_trgm, unaccent, btree_gin };

/**
 * PGlite's own start parameters, with 32 MB of shared buffers instead of initdb's 128 MB: PGlite
 * allocates and zeroes them in its WebAssembly memory at every start (~0.1 s, issue 16:
 * start-up). Reads beyond them are served by the OS page cache: measured no slower on an 80 MB
 * database (point reads, scans, inserts), and the process holds ~96 MB less.
 */
const PGLITE_START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=32MB'];

export type Schema = typeof schema;
/** The drizzle database or a transaction of it: both run the same queries on either driver. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export const MIGRATIONS_FOLDER = resolve(import.meta.dirname, '../../drizzle');

export interface NotificationListener {
  unlisten(): Promise<void>;
}

export interface Database {
  readonly kind: 'postgres' | 'pglite';
  /**
   * How PGlite's data directory came to be: it was there, or it was new and came from the
   * build's image (pglite-image.ts) or from PGlite's initdb. null on Postgres and in memory.
   */
  readonly pgliteDataDir: 'existing' | 'image' | 'initdb' | null;
  readonly db: Db;
  /** SQL statements issued through drizzle since start; tests and the benchmark read it. */
  readonly stats: StatementStats;
  ping(): Promise<void>;
  /** Postgres LISTEN (postgres.js keeps one dedicated connection for it); null on PGlite. */
  listen: ((channel: string, onPayload: (payload: string) => void) => Promise<NotificationListener>) | null;
  /** Raw postgres.js client, for the few statements drizzle cannot express well (NOTIFY batches). */
  readonly sql: postgres.Sql | null;
  close(): Promise<void>;
}

export interface StatementStats {
  statements: number;
  /**
   * Called with each drizzle statement and its parameters. Tests that count the statements of one
   * action watch for the ids it touches, so a periodic worker's statement in the same window
   * (routing sweep, maintenance) does not count. Empty in production: one size check per statement.
   */
  readonly watchers: Set<(query: string, params: unknown[]) => void>;
}

export interface OpenDatabaseOptions {
  databaseUrl: string | null;
  /** Prepare every statement on Postgres (off for PgBouncer in transaction mode). */
  prepareStatements?: boolean;
  dataDir: string;
  poolSize: number;
  logger: Logger;
  /** Where a new PGlite data directory's image is looked for (default dist/pglite-image); null: never (initdb). */
  pgliteImageRoot?: string | null;
}

const MIGRATION_LOCK_ID = 72_410_593;

type Unsafe = postgres.Sql['unsafe'];

/**
 * drizzle prepares only statements given a name, and runs everything else (every query builder
 * call and db.execute) through `unsafe()` unprepared: Postgres parses and plans each one again,
 * which measured at about half the cost of the webhook's ingest statement. This view of the
 * client prepares them all, in transactions too; postgres.js caches them per connection by text.
 */
function preparingClient<T extends postgres.Sql | postgres.TransactionSql>(client: T): T {
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === 'unsafe') {
        const unsafe: Unsafe = (query, parameters, options) =>
          (target.unsafe as Unsafe)(query, parameters, { ...options, prepare: true });
        return unsafe;
      }
      if (property === 'begin') {
        return (...args: unknown[]) => {
          const callback = args[args.length - 1] as (tx: postgres.TransactionSql) => unknown;
          args[args.length - 1] = (tx: postgres.TransactionSql) => callback(preparingClient(tx));
          return (target as postgres.Sql).begin(...(args as [never]));
        };
      }
      return Reflect.get(target, property, receiver);
    },
  });
}

export async function openDatabase(opts: OpenDatabaseOptions): Promise<Database> {
  const stats: StatementStats = { statements: 0, watchers: new Set() };
  const drizzleLogger = {
    logQuery(query: string, params: unknown[]) {
      stats.statements++;
      if (stats.watchers.size > 0) for (const watch of stats.watchers) watch(query, params);
    },
  };

  if (opts.databaseUrl) {
    const client = postgres(opts.databaseUrl, {
      max: opts.poolSize,
      onnotice: () => {},
      connect_timeout: 10,
      prepare: opts.prepareStatements !== false,
    });
    const db = drizzlePostgres(opts.prepareStatements === false ? client : preparingClient(client), {
      schema,
      logger: drizzleLogger,
    }) as unknown as Db;
    return {
      kind: 'postgres',
      pgliteDataDir: null,
      db,
      stats,
      sql: client,
      async ping() {
        await client`select 1`;
      },
      listen: async (channel, onPayload) => {
        const sub = await client.listen(channel, onPayload);
        return { unlisten: () => sub.unlisten() };
      },
      async close() {
        await client.end({ timeout: 5 });
      },
    };
  }

  useLargerWasmTieringBudget();
  const inMemory = opts.dataDir === 'memory://';
  const extensions = PGLITE_EXTENSIONS;
  let pgliteDataDir: Database['pgliteDataDir'] = null;
  let pg: PGlite;
  if (inMemory) {
    pg = new PGlite({ extensions, startParams: PGLITE_START_PARAMS });
  } else {
    const dir = resolve(opts.dataDir, 'pglite');
    mkdirSync(resolve(opts.dataDir), { recursive: true });
    if (isNewPgliteDir(dir)) {
      const imageRoot = opts.pgliteImageRoot === undefined ? PGLITE_IMAGE_ROOT : opts.pgliteImageRoot;
      const fromImage = imageRoot !== null && copyPgliteImage(imageRoot, pgliteImageKey(MIGRATIONS_FOLDER, Object.keys(extensions)), dir);
      pgliteDataDir = fromImage ? 'image' : 'initdb';
    } else {
      pgliteDataDir = 'existing';
    }
    pg = new PGlite(dir, { extensions, startParams: PGLITE_START_PARAMS });
  }
  await pg.waitReady;
  const db = drizzlePglite(pg, { schema, logger: drizzleLogger }) as unknown as Db;
  return {
    kind: 'pglite',
    pgliteDataDir,
    db,
    stats,
    sql: null,
    async ping() {
      await pg.query('select 1');
    },
    listen: null,
    async close() {
      if (!pg.closed) await pg.close();
    },
  };
}

let tieringBudgetSet = false;
/**
 * PGlite is Postgres compiled to WebAssembly. V8 first runs a wasm function as baseline code and
 * recompiles it with its optimising compiler once it has spent a "tiering budget"; with the
 * default budget (1,800,000) Postgres's start and the first queries of the workers after listen
 * make hundreds of functions hot at once, and their recompilation held the event loop 0.4-0.9 s
 * (issue 16: start-up). Ten times the budget recompiles only what stays hot: that stall drops to
 * ~0.1 s, and steady-state query speed did not change measurably. Set before the first PGlite
 * compiles its module (measured to take effect then); it concerns only WebAssembly.
 */
function useLargerWasmTieringBudget(): void {
  if (tieringBudgetSet) return;
  tieringBudgetSet = true;
  setFlagsFromString('--wasm-tiering-budget=18000000');
}

/**
 * Applies the committed SQL migrations. On Postgres an advisory lock serialises instances that
 * start together, so two servers never race on the same migration.
 */
export async function migrateDatabase(database: Database, migrationsFolder = MIGRATIONS_FOLDER): Promise<void> {
  if (database.kind === 'pglite') {
    await migratePglite(database.db as unknown as Parameters<typeof migratePglite>[0], { migrationsFolder });
    return;
  }
  const client = database.sql!;
  // The lock lives on its own reserved connection; the migrator runs on the pool meanwhile.
  const lockConnection = await client.reserve();
  try {
    await lockConnection`select pg_advisory_lock(${MIGRATION_LOCK_ID})`;
    await migratePostgres(database.db as unknown as Parameters<typeof migratePostgres>[0], { migrationsFolder });
  } finally {
    await lockConnection`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`.catch(() => {});
    lockConnection.release();
  }
}

/** `db.execute` answers an array (postgres.js) or `{ rows }` (PGlite). */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  const rows = (result as { rows?: unknown } | null)?.rows;
  return Array.isArray(rows) ? (rows as T[]) : [];
}

export { sql };
