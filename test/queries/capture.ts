import 'reflect-metadata';
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import type { Db } from '../../src/db/client.js';
import { MIGRATIONS_FOLDER, PGLITE_EXTENSIONS } from '../../src/db/client.js';
import { FIXTURE, type FunctionQueries, type QueryCatalogEntry, type RepositoryQueries } from '../../src/db/query-catalog.js';
import * as schema from '../../src/db/schema.js';
import { ConversationStatus } from '../../src/modules/conversations/conversation-status.js';
import { MessageDirection, MessageStatus } from '../../src/modules/messages/message.enums.js';
import { NumberDirection, NumberType } from '../../src/modules/phone-numbers/phone-number.enums.js';
import { Role } from '../../src/modules/users/role.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const MODULES_DIR = resolve(ROOT, 'src/modules');
export const SNAPSHOT_DIR = resolve(ROOT, 'test/queries/sql');

export interface CapturedCall {
  /** `ConversationsRepository.list (first page)` */
  title: string;
  statements: Array<{ sql: string; tenantBound: boolean }>;
  crossTenant: string | undefined;
  error: string | undefined;
}

export interface CatalogFile {
  feature: string;
  path: string;
  entries: QueryCatalogEntry[];
}

/** Every `src/modules/<feature>/<feature>.queries.ts`, in a stable order. */
export async function loadCatalogs(): Promise<CatalogFile[]> {
  const files: CatalogFile[] = [];
  for (const feature of readdirSync(MODULES_DIR).sort()) {
    for (const name of readdirSync(resolve(MODULES_DIR, feature)).sort()) {
      if (!name.endsWith('.queries.ts')) continue;
      const path = resolve(MODULES_DIR, feature, name);
      const mod = (await import(pathToFileURL(path).href)) as { default: QueryCatalogEntry[] };
      files.push({ feature: name.replace(/\.queries\.ts$/, ''), path, entries: mod.default });
    }
  }
  return files;
}

const TRANSACTION_CONTROL = /^(begin|commit|rollback|savepoint|release savepoint|rollback to savepoint)\b/i;
/** A transaction's own setting (SET LOCAL) reads and writes no rows: no tenant to carry. */
const LOCAL_SETTING = /^set local\s/i;

class Rollback extends Error {}

/** A migrated in-memory PGlite with the FIXTURE rows, and a switch that records what drizzle sends. */
export async function openSnapshotDatabase(): Promise<{
  db: Db;
  record: <T>(fn: () => Promise<T>) => Promise<{ statements: Array<{ sql: string; params: unknown[] }>; error?: unknown }>;
  close: () => Promise<void>;
}> {
  const pg = new PGlite({ extensions: PGLITE_EXTENSIONS });
  let sink: Array<{ sql: string; params: unknown[] }> | null = null;
  const db = drizzle(pg, {
    schema,
    logger: { logQuery: (query, params) => void sink?.push({ sql: query, params }) },
  }) as unknown as Db;
  await migrate(db as unknown as Parameters<typeof migrate>[0], { migrationsFolder: MIGRATIONS_FOLDER });
  await seedFixture(db);
  return {
    db,
    async record(fn) {
      const statements: Array<{ sql: string; params: unknown[] }> = [];
      sink = statements;
      try {
        await fn();
        return { statements };
      } catch (error) {
        return { statements, error };
      } finally {
        sink = null;
      }
    },
    close: () => pg.close(),
  };
}

async function seedFixture(db: Db): Promise<void> {
  const f = FIXTURE;
  await db.insert(schema.tenants).values({ id: f.tenantId, name: 'Snapshot', slug: 'snapshot' });
  await db.insert(schema.users).values({ id: f.userId, tenantId: f.tenantId, email: 'admin@example.com', name: 'Admin', role: Role.ADMIN, passwordHash: 'hash' });
  await db.insert(schema.twilioAccounts).values({
    id: f.accountId,
    tenantId: f.tenantId,
    accountSid: f.accountSid,
    authTokenSealed: 'sealed',
    friendlyName: 'Main',
    apiBaseUrl: 'https://api.twilio.com',
    webhookKey: f.webhookKey,
  });
  await db.insert(schema.phoneNumbers).values({
    id: f.phoneNumberId,
    tenantId: f.tenantId,
    twilioAccountId: f.accountId,
    e164: f.e164,
    type: NumberType.LONG_CODE,
    direction: NumberDirection.INBOUND_OUTBOUND,
  });
  await db.insert(schema.contacts).values([
    { id: f.contactId, tenantId: f.tenantId, phoneNumber: f.contactPhone },
    { id: f.newContactId, tenantId: f.tenantId, phoneNumber: '+15550100003' },
  ]);
  await db.insert(schema.conversations).values({
    id: f.conversationId,
    tenantId: f.tenantId,
    phoneNumberId: f.phoneNumberId,
    contactId: f.contactId,
    status: ConversationStatus.OPEN,
  });
  await db.insert(schema.messages).values([
    {
      id: f.messageId,
      tenantId: f.tenantId,
      conversationId: f.conversationId,
      twilioAccountId: f.accountId,
      direction: MessageDirection.INBOUND,
      body: 'Hi',
      media: [{ url: 'https://api.twilio.com/media/1', contentType: 'image/jpeg' }],
      status: MessageStatus.RECEIVED,
      segments: 1,
    },
    {
      id: f.outboundMessageId,
      tenantId: f.tenantId,
      conversationId: f.conversationId,
      twilioAccountId: f.accountId,
      direction: MessageDirection.OUTBOUND,
      body: 'Hello',
      status: MessageStatus.QUEUED,
      segments: 1,
    },
  ]);
  await db.insert(schema.outbox).values({ id: f.outboxJobId, tenantId: f.tenantId, messageId: f.outboundMessageId, phoneNumberId: f.phoneNumberId });
}

function mentionsTenant(params: unknown[]): boolean {
  return params.some((p) => p === FIXTURE.tenantId || (Array.isArray(p) && p.includes(FIXTURE.tenantId)));
}

function isRepositoryEntry(entry: QueryCatalogEntry): entry is RepositoryQueries<unknown> {
  return 'repository' in entry;
}

type SnapshotDatabase = Awaited<ReturnType<typeof openSnapshotDatabase>>;
type Recorded = Awaited<ReturnType<SnapshotDatabase['record']>>;

/** Runs `fn` (after `setUp`) in a transaction rolled back afterwards, recording the SQL `fn` sends. */
export async function recordRolledBack(
  database: SnapshotDatabase,
  fn: (db: Db) => Promise<unknown>,
  setUp?: (db: Db) => Promise<void>,
): Promise<Recorded> {
  let inner: Recorded = { statements: [] };
  await database.db
    .transaction(async (tx) => {
      await setUp?.(tx as unknown as Db);
      inner = await database.record(() => fn(tx as unknown as Db));
      throw new Rollback();
    })
    .catch((e: unknown) => {
      if (!(e instanceof Rollback)) throw e;
    });
  return inner;
}

/** Runs every call of the catalogs, each in a transaction rolled back afterwards, and records its SQL. */
export async function captureAll(catalogs: CatalogFile[]): Promise<Map<string, CapturedCall[]>> {
  const database = await openSnapshotDatabase();
  const byFeature = new Map<string, CapturedCall[]>();
  try {
    for (const catalog of catalogs) {
      const calls: CapturedCall[] = [];
      const run = async (
        title: string,
        crossTenant: string | undefined,
        fn: (db: Db) => Promise<unknown>,
        setUp?: (db: Db) => Promise<void>,
      ) => {
        const inner = await recordRolledBack(database, fn, setUp);
        calls.push({
          title,
          crossTenant,
          error: inner.error === undefined ? undefined : String((inner.error as Error).message ?? inner.error),
          statements: inner.statements
            .filter((s) => !TRANSACTION_CONTROL.test(s.sql.trim()))
            .map((s) => ({ sql: s.sql, tenantBound: mentionsTenant(s.params) || LOCAL_SETTING.test(s.sql.trim()) })),
        });
      };
      for (const entry of catalog.entries) {
        if (isRepositoryEntry(entry)) {
          const name = entry.repository.name;
          const create =
            entry.create ?? ((db: Db) => new (entry.repository as unknown as new (db: Db, tenantId: string) => unknown)(db, FIXTURE.tenantId));
          for (const [method, call] of Object.entries(entry.calls as Record<string, unknown>)) {
            const variants = typeof call === 'function' ? { '': call } : (call as Record<string, unknown>);
            for (const [label, fn] of Object.entries(variants)) {
              await run(
                `${name}.${method}${label ? ` (${label})` : ''}`,
                entry.crossTenant,
                (db) => (fn as (r: unknown) => Promise<unknown>)(create(db)),
                entry.setUp,
              );
            }
          }
        } else {
          for (const [fnName, { run: fn, crossTenant, setUp }] of Object.entries((entry as FunctionQueries).functions)) {
            await run(fnName, crossTenant, fn, setUp);
          }
        }
      }
      byFeature.set(catalog.feature, calls);
    }
  } finally {
    await database.close();
  }
  return byFeature;
}

const CLAUSE = /^\s+(?=(?:from|where|group by|order by|limit|returning|values|on conflict|inner join|left join|do update set|do nothing|for update)\b)/i;

/**
 * One line per clause for drizzle's single-line SQL (clauses of the outer statement only, not
 * inside parentheses or quotes); hand-written SQL keeps its own lines, dedented.
 */
export function formatSql(text: string): string {
  if (text.includes('\n')) {
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    const indent = Math.min(...lines.map((l) => l.match(/^\s*/)![0].length));
    return lines.map((l) => l.slice(indent).trimEnd()).join('\n');
  }
  let out = '';
  let depth = 0;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (depth === 0 && /\s/.test(c)) {
      const match = CLAUSE.exec(text.slice(i));
      if (match) {
        out += '\n  ';
        i += match[0].length - 1;
        continue;
      }
    }
    out += c;
  }
  return out.trim();
}

export const UNBOUND_WARNING = "-- WARNING: the bound tenant's id is not a parameter of this statement";

export function renderSnapshot(feature: string, calls: CapturedCall[]): string {
  const out = [
    `-- Generated by \`npm run sql:snapshots\` from src/modules/${feature}/${feature}.queries.ts: do not edit.`,
    '-- Every statement the repositories send, for review in diffs (docs/architecture.md, "SQL snapshots").',
    '',
  ];
  for (const call of calls) {
    out.push(`-- ${call.title}`);
    if (call.crossTenant) out.push(`-- every tenant: ${call.crossTenant}`);
    if (call.error) out.push(`-- ERROR: ${call.error.split('\n')[0]!.slice(0, 200)}`);
    if (call.statements.length === 0) out.push('-- (no statement)');
    for (const statement of call.statements) {
      if (!statement.tenantBound && !call.crossTenant) out.push(UNBOUND_WARNING);
      out.push(`${formatSql(statement.sql)};`);
    }
    out.push('');
  }
  return out.join('\n');
}
