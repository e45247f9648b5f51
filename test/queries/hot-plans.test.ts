import 'reflect-metadata';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { rowsOf, type Db } from '../../src/db/client.js';
import * as schema from '../../src/db/schema.js';
import { AutomatedMessageTrigger } from '../../src/modules/automations/automation.enums.js';
import { ConversationStatus } from '../../src/modules/conversations/conversation-status.js';
import { MessageDirection, MessageStatus } from '../../src/modules/messages/message.enums.js';
import { NumberDirection, NumberType } from '../../src/modules/phone-numbers/phone-number.enums.js';
import { Role } from '../../src/modules/users/role.js';
import { FIXTURE, type FunctionQueries, type QueryCall, type RepositoryQueries } from '../../src/db/query-catalog.js';
import { loadCatalogs, openSnapshotDatabase, recordRolledBack } from './capture.js';
import { explainCustomJson, explainGenericJson, planCacheUse } from '../helpers/capture-sql.js';

// The statements on the paths that run once per webhook or per live event must find their rows by
// key whatever the statistics say. Postgres caches a generic plan per prepared statement and keeps
// it until the table is analysed again; a plan made while a table was small (a new database, the
// minute before autovacuum catches up) read the whole table on every call as it grew: the live
// row load hashed a sequential scan of messages, the ingest walked every number and every
// automated message, and its retry probe every message of the tenant (bench, issue 16).
// Here: the snapshot fixture, in each state below, then each statement's generic plan.

/** The catalog calls (src/modules/<feature>/<feature>.queries.ts) whose statements are hot. */
const HOT_FUNCTIONS = ['ingestBatch', 'ingestBatchWithMedia', 'ingestBatchBlockedContact', 'loadMessagesWithHolders', 'loadConversations', 'loadUsers', 'loadContacts', 'sendReplies'];
/** Repository calls run per batch of outbound messages (the dispatcher's), by class and method. */
const HOT_METHODS: Record<string, string[]> = {
  OutboxBatchRepository: ['load', 'markSending', 'recordSent'],
  // A method of several catalog calls is named with the one checked: `method (call)`.
  MessagesRepository: ['conversationWithPage (first page, AGENT)'],
  // The campaign runner's per-pass statements, and the stats every progress event carries (a
  // join on (tenant_id, id) walked the tenant's messages per recipient: 14.7 s at 5,000).
  // liveConversations probes by key too, but Postgres plans it on each call (its array's length
  // changes the custom plan's cost), once per batch of up to 256 recipients: in CUSTOM_PLANNED.
  CampaignRunRepository: ['inFlight', 'queueTexts'],
  CampaignsRepository: ['stats'],
};
/**
 * Known and left (bench/results.md, ninth session): the SENDING step's update keeps its status
 * condition (re-checked on a row changed meanwhile), and on a table never analysed the planner
 * estimates that condition to keep two rows and prefers scanning the table to a look-up by key.
 * Its walk of the tenant's rows is gone, and analysed tables plan it by key (both checked here).
 */
const SCANS_WHILE_YOUNG: Record<string, string[]> = { 'OutboxBatchRepository.markSending': ['Seq Scan on messages'] };
/**
 * Look-ups by key checked in a plan made for the tenant's values only: liveConversations (planned
 * on every call, once per batch of a campaign), and those of findOrOpen (a conversation started by
 * an agent or an automation), a rating text, and a blocked contact's conversations.
 */
const CUSTOM_PLANNED = [
  'CampaignRunRepository.liveConversations',
  'ConversationsRepository.findLive',
  'CsatRepository.ingestRating',
  'ConversationsRepository.resolveLiveOfContact',
];
const HOT = [...HOT_FUNCTIONS, ...Object.entries(HOT_METHODS).flatMap(([cls, methods]) => methods.map((m) => `${cls}.${m}`))];

/** Tables that grow with traffic or tenants: each read of one must be a look-up by key. */
const GROWING = new Set(['messages', 'conversations', 'contacts', 'phone_numbers', 'automated_messages', 'users']);

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Plans?: PlanNode[];
}

function* walk(node: PlanNode): Generator<PlanNode> {
  yield node;
  for (const child of node.Plans ?? []) yield* walk(child);
}

/** An index condition that names a key besides the tenant (not a walk of all the tenant's rows). */
const namesAKey = (cond: string) => /(?<![a-z_])(?!tenant_id\b)[a-z_0-9]+ = /.test(cond);

/**
 * What is wrong with each read of a growing table in the plan (empty when all are key look-ups):
 * an index scan must have a condition naming a key; a bitmap heap scan, every bitmap index scan
 * under it (those nodes name the index, not the table).
 */
function unkeyedReads(plan: PlanNode): string[] {
  const problems: string[] = [];
  const byIndex = (table: string, node: PlanNode) => {
    const cond = node['Index Cond'];
    if (!cond || !namesAKey(cond)) problems.push(`${node['Node Type']} of ${table} by ${node['Index Name']} on ${cond ?? 'no condition'}`);
  };
  for (const node of walk(plan)) {
    const table = node['Relation Name'];
    const type = node['Node Type'];
    if (!table || !GROWING.has(table) || type === 'ModifyTable') continue;
    if (type === 'Index Scan' || type === 'Index Only Scan') byIndex(table, node);
    else if (type === 'Bitmap Heap Scan') {
      for (const under of walk(node)) if (under['Node Type'] === 'Bitmap Index Scan') byIndex(table, under);
    } else problems.push(`${type} on ${table}`);
  }
  return problems;
}

/** `n` numbers, each with a contact, a conversation, a message and an automated message, and `n` users, of one more tenant. */
async function seedAnotherTenant(db: Db, n: number): Promise<void> {
  const tenantId = randomUUID();
  const accountId = randomUUID();
  const each = Array.from({ length: n }, (_, i) => ({
    i,
    numberId: randomUUID(),
    contactId: randomUUID(),
    conversationId: randomUUID(),
    e164: `+1555030${String(i).padStart(4, '0')}`,
  }));
  await db.insert(schema.tenants).values({ id: tenantId, name: 'Other', slug: 'other' });
  await db.insert(schema.twilioAccounts).values({
    id: accountId,
    tenantId,
    accountSid: `AC${'2'.repeat(32)}`,
    authTokenSealed: 'sealed',
    friendlyName: 'Other',
    apiBaseUrl: 'https://api.twilio.com',
    webhookKey: 'other-webhook-key',
  });
  await db.insert(schema.users).values(
    each.map(({ i }) => ({ tenantId, email: `agent${i}@other.test`, name: `Agent ${i}`, role: Role.AGENT, passwordHash: 'hash' })),
  );
  await db.insert(schema.phoneNumbers).values(
    each.map((e) => ({ id: e.numberId, tenantId, twilioAccountId: accountId, e164: e.e164, type: NumberType.LONG_CODE, direction: NumberDirection.INBOUND_OUTBOUND })),
  );
  await db.insert(schema.contacts).values(each.map((e) => ({ id: e.contactId, tenantId, phoneNumber: `+1555040${String(e.i).padStart(4, '0')}` })));
  await db.insert(schema.conversations).values(
    each.map((e) => ({ id: e.conversationId, tenantId, phoneNumberId: e.numberId, contactId: e.contactId, status: ConversationStatus.OPEN })),
  );
  await db.insert(schema.messages).values(
    each.map((e) => ({
      tenantId,
      conversationId: e.conversationId,
      twilioAccountId: accountId,
      direction: MessageDirection.INBOUND,
      body: `text ${e.i}`,
      status: MessageStatus.RECEIVED,
      twilioSid: `SM${String(e.i).padStart(32, '0')}`,
      segments: 1,
    })),
  );
  await db.insert(schema.automatedMessages).values(
    each.map((e) => ({ tenantId, phoneNumberId: e.numberId, trigger: AutomatedMessageTrigger.GREETING, body: 'Away', enabled: true })),
  );
}

/**
 * The states a young database's statistics are in: never analysed (its first minute: the planner
 * assumes ten pages a table), grown to a few hundred rows before its first analysis, and analysed
 * at a thousand rows. Not covered, on purpose: tables analysed while a few pages long, whose
 * plans scan them (right at that size); autovacuum analyses them again after 50 rows and 10%
 * more, which replans.
 */
const STATES = [
  { name: 'never analysed', rows: 0, analyse: false },
  { name: 'grown to 300 rows a table before any analysis', rows: 300, analyse: false },
  { name: 'analysed at 1,000 rows a table', rows: 1000, analyse: true },
];

describe.each(STATES)('hot statements, statistics $name: generic plans find rows by key', (state) => {
  let database: Awaited<ReturnType<typeof openSnapshotDatabase>>;
  const statements = new Map<string, { sql: string; params: unknown[] }>();

  beforeAll(async () => {
    database = await openSnapshotDatabase();
    const entries = (await loadCatalogs()).flatMap((c) => c.entries);
    const functions = entries
      .flatMap((e) => ('functions' in e ? Object.entries((e as FunctionQueries).functions) : []))
      .filter(([name]) => HOT_FUNCTIONS.includes(name));
    const methods = entries.flatMap((e) => {
      if ('functions' in e) return [];
      const entry = e as RepositoryQueries<Record<string, unknown>>;
      const prefix = `${entry.repository.name}.`;
      const wanted = [...(HOT_METHODS[entry.repository.name] ?? []), ...CUSTOM_PLANNED.filter((n) => n.startsWith(prefix)).map((n) => n.slice(prefix.length))];
      return wanted.map((method) => {
        const [, name, variant] = /^(\w+)(?: \((.+)\))?$/.exec(method)!;
        const calls = (entry.calls as Record<string, unknown>)[name!];
        const call = (variant === undefined ? calls : (calls as Record<string, unknown>)[variant]) as QueryCall<Record<string, unknown>>;
        const create = entry.create ?? ((db: Db) => new (entry.repository as unknown as new (db: Db, tenantId: string) => Record<string, unknown>)(db, FIXTURE.tenantId));
        return [`${entry.repository.name}.${method}`, { run: (db: Db) => call(create(db)), setUp: entry.setUp }] as const;
      });
    });
    for (const [name, call] of [...functions, ...methods]) {
      // The catalog's own call, recorded in a transaction rolled back (the calls share fixture ids).
      const { statements: sent, error } = await recordRolledBack(database, call.run, call.setUp);
      if (error) throw error;
      // The call's main statement: the longest it sent (the others are transaction control).
      const main = [...sent].sort((a, b) => b.sql.length - a.sql.length)[0]!;
      statements.set(name, main);
    }
    if (state.rows > 0) await seedAnotherTenant(database.db, state.rows);
    if (state.analyse) await database.db.execute(sql.raw('analyze'));
  }, 120_000);

  afterAll(async () => {
    await database?.close();
  });

  it('records every hot statement of the catalogs', () => {
    expect([...statements.keys()].sort()).toEqual([...HOT, ...CUSTOM_PLANNED].sort());
  });

  it.each(HOT)('%s reads every growing table by key, never by a scan or by the tenant alone', async (name) => {
    const plan = await explainGenericJson<PlanNode>(database.db, statements.get(name)!);
    if (process.env.SHOW_PLAN) console.log(JSON.stringify(plan, null, 1));
    expect([...walk(plan)].some((n) => n['Relation Name'] && GROWING.has(n['Relation Name']))).toBe(true);
    const known = !state.analyse ? (SCANS_WHILE_YOUNG[name] ?? []) : [];
    expect(unkeyedReads(plan).filter((p) => !known.includes(p))).toEqual([]);
  });

  // Planned for the call's own tenant (a custom plan: each call of a statement Postgres keeps
  // custom, every statement with DATABASE_PREPARE=false), the tenant's few rows in the statistics
  // beside another's thousand: every index led by tenant_id then looks as good as the key's, and
  // the planner took the smaller one, walking all of the tenant's live conversations per probe.
  // Only in the analysed state: before any analysis the statistics know no tenant at all.
  it.skipIf(!state.analyse).each([...HOT, ...CUSTOM_PLANNED])('%s reads by key in a plan made for its tenant\'s own few rows', async (name) => {
    const plan = await explainCustomJson<PlanNode>(database.db, statements.get(name)!);
    if (process.env.SHOW_PLAN) console.log(JSON.stringify(plan, null, 1));
    expect(unkeyedReads(plan)).toEqual([]);
  });

  // A prepared statement is planned for its parameters five times, then Postgres keeps the generic
  // plan unless that one looks costlier than the custom ones: an estimate that moves with a
  // parameter (an unnest of an array of known length, a LIMIT $n) keeps it custom, and every call
  // is planned afresh. The live row load was: 0.37 ms of planning for 0.11 ms of execution, per
  // live event (bench, pg_stat_statements with track_planning).
  it.each(HOT)('%s is planned once, then runs its generic plan (not planned again on every call)', async (name) => {
    expect(await planCacheUse(database.db, statements.get(name)!, 8)).toEqual({ custom: 5, generic: 3 });
  });
});


// A GIN index with fastupdate collects new entries in a pending list, and the insert that overflows
// the list merges all of it into the index. The server merges the lists in the background
// (test/inbox/search-index-merge.test.ts), so the limit is Postgres's default (4 MB), a bound
// only: 128 kB (migration 0024) made inserts merge often, at twice the WAL per inbound text
// (bench/results.md, tenth session); migration 0025 resets it.
describe('GIN indexes written by an inbound text', () => {
  it('keep the default pending-list limit (merged in the background)', async () => {
    const database = await openSnapshotDatabase();
    try {
      const rows = rowsOf<{ index: string; options: string[] | null }>(
        await database.db.execute(
          sql.raw(`
            select i.relname as index, i.reloptions as options
            from pg_index x
            join pg_class i on i.oid = x.indexrelid
            join pg_class t on t.oid = x.indrelid
            join pg_am am on am.oid = i.relam
            where am.amname = 'gin' and t.relname in ('messages', 'contacts')
            order by 1`),
        ),
      );
      expect(rows.map((r) => r.index)).toEqual(['contacts_tenant_name_trgm_idx', 'contacts_tenant_phone_trgm_idx', 'messages_tenant_body_trgm_idx']);
      for (const row of rows) expect({ index: row.index, options: row.options }).toEqual({ index: row.index, options: null });
    } finally {
      await database.close();
    }
  }, 60_000);
});
