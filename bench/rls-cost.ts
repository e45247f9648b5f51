/**
 * What row-level security would cost on the two hottest statements: the webhook's ingest
 * (ingestBatch, one webhook per statement) and the inbox list (ConversationsRepository.list, first page).
 * Sequential calls (one at a time), the real repositories, a fresh database with 4 tenants x 2000
 * conversations, three variants interleaved in rounds (so machine load hits them alike):
 *
 *   plain   today: the statement alone, as the superuser, no policy applies
 *   tx      the same in a transaction that sets the tenant (set_config), still the superuser:
 *           the round trips RLS needs, without a policy
 *   rls     the same transaction switching to a non-superuser role (set_config('role', ...)),
 *           so the tenant_isolation policies on contacts/conversations/messages/phone_numbers apply
 *
 * Usage: npx tsx bench/rls-cost.ts [iterations per variant, default 600]
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { sql } from 'drizzle-orm';
import { migrateDatabase, openDatabase, type Db } from '../src/db/client.js';
import { ConversationsRepository } from '../src/modules/conversations/conversations.repository.js';
import { ingestBatch } from '../src/modules/inbound/inbound-batch.repository.js';
import { createBenchDatabase, DEFAULT_ADMIN_URL } from './lib/db.js';

const N = Number(process.argv[2] ?? 600);
const ROUNDS = 6;
const TENANTS = 4;
const CONVERSATIONS = 2000;
const POLICY_TABLES = ['contacts', 'conversations', 'messages', 'phone_numbers'];

const bench = await createBenchDatabase(process.env.BENCH_DATABASE_URL ?? DEFAULT_ADMIN_URL);
const role = `rls_cost_${process.pid}`;
const database = await openDatabase({ databaseUrl: bench.url, dataDir: 'memory://', poolSize: 2, logger: pino({ level: 'silent' }) });
try {
  await migrateDatabase(database);
  const raw = bench.sql;
  const tenants: Array<{ tenantId: string; accountId: string; e164: string }> = [];
  for (let t = 0; t < TENANTS; t++) {
    const [tenant] = await raw<{ id: string }[]>`insert into tenants (name, slug) values (${`T${t}`}, ${`t-${t}`}) returning id`;
    const [account] = await raw<{ id: string }[]>`
      insert into twilio_accounts (tenant_id, account_sid, auth_token_sealed, friendly_name, api_base_url, webhook_key)
      values (${tenant!.id}, ${`AC${String(t).padStart(32, '0')}`}, 'x', 'Main', 'https://api.twilio.com', ${randomUUID()}) returning id`;
    const e164 = `+1555010${String(t).padStart(4, '0')}`;
    const [number] = await raw<{ id: string }[]>`
      insert into phone_numbers (tenant_id, twilio_account_id, e164, type, direction)
      values (${tenant!.id}, ${account!.id}, ${e164}, 'LONG_CODE', 'INBOUND_OUTBOUND') returning id`;
    await raw`
      with c as (
        insert into contacts (tenant_id, phone_number)
        select ${tenant!.id}::uuid, '+1556' || lpad(g::text, 7, '0') from generate_series(1, ${CONVERSATIONS}::int) g
        returning id
      )
      insert into conversations (tenant_id, contact_id, phone_number_id, last_message_at)
      select ${tenant!.id}::uuid, c.id, ${number!.id}::uuid, now() - random() * interval '30 days' from c`;
    tenants.push({ tenantId: tenant!.id, accountId: account!.id, e164 });
  }
  await raw.unsafe(`create role ${role} nologin`);
  await raw.unsafe(`grant select, insert, update, delete on all tables in schema public to ${role}`);
  await raw.unsafe(`grant usage on all sequences in schema public to ${role}`);
  for (const table of POLICY_TABLES) {
    await raw.unsafe(`alter table ${table} enable row level security`);
    await raw.unsafe(`create policy tenant_isolation on ${table} to ${role}
      using (tenant_id = current_setting('app.tenant_id')::uuid) with check (tenant_id = current_setting('app.tenant_id')::uuid)`);
  }
  await raw`analyze`;

  type Variant = 'plain' | 'tx' | 'rls';
  const inTenant = async (variant: Variant, tenantId: string, fn: (db: Db) => Promise<unknown>) => {
    if (variant === 'plain') return fn(database.db);
    return database.db.transaction(async (tx) => {
      await tx.execute(
        variant === 'rls'
          ? sql`select set_config('role', ${role}, true), set_config('app.tenant_id', ${tenantId}, true)`
          : sql`select set_config('app.tenant_id', ${tenantId}, true)`,
      );
      return fn(tx as unknown as Db);
    });
  };

  let seq = 0;
  const ingest = (variant: Variant) => {
    const t = tenants[seq % TENANTS]!;
    const n = seq++;
    return inTenant(variant, t.tenantId, (db) =>
      ingestBatch(db, [
        {
          tenantId: t.tenantId,
          accountId: t.accountId,
          messageId: randomUUID(),
          copyMedia: 0,
          sms: {
            messageSid: `SM${n.toString(16).padStart(32, '0')}`,
            from: `+1556${String((n % CONVERSATIONS) + 1).padStart(7, '0')}`,
            to: t.e164,
            body: 'Hello',
            geo: {},
            media: [],
            mediaDropped: 0,
            segments: 1,
            optChange: null,
          },
        },
      ]).then(([outcome]) => {
        if (outcome?.kind !== 'stored') throw new Error('ingest stored nothing');
      }),
    );
  };
  const list = (variant: Variant) => {
    const t = tenants[seq++ % TENANTS]!;
    return inTenant(variant, t.tenantId, (db) =>
      new ConversationsRepository(db, t.tenantId).list(20, null).then((rows) => {
        if (rows.length !== 21) throw new Error(`list answered ${rows.length} rows`);
      }),
    );
  };

  const variants: Variant[] = ['plain', 'tx', 'rls'];
  const totals = { ingest: { plain: 0, tx: 0, rls: 0 }, list: { plain: 0, tx: 0, rls: 0 } };
  for (const [name, op] of [['ingest', ingest], ['list', list]] as const) {
    for (const v of variants) for (let i = 0; i < 20; i++) await op(v); // warm-up: prepared statements, caches
    for (let round = 0; round < ROUNDS; round++) {
      for (const v of round % 2 === 0 ? variants : [...variants].reverse()) {
        const start = process.hrtime.bigint();
        for (let i = 0; i < N / ROUNDS; i++) await op(v);
        totals[name][v] += Number(process.hrtime.bigint() - start) / 1e6;
      }
    }
  }
  for (const name of ['ingest', 'list'] as const) {
    const per = (v: Variant) => totals[name][v] / N;
    console.log(
      `${name.padEnd(6)} plain ${per('plain').toFixed(3)} ms  tx ${per('tx').toFixed(3)} ms  rls ${per('rls').toFixed(3)} ms` +
        `  rls/plain ${(per('rls') / per('plain')).toFixed(2)}  rls/tx ${(per('rls') / per('tx')).toFixed(2)}  tx/plain ${(per('tx') / per('plain')).toFixed(2)}`,
    );
  }
  console.log(`(${N} per variant, ${ROUNDS} interleaved rounds, one connection; load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')})`);
} finally {
  await database.close();
  await bench.drop();
  const admin = (await import('postgres')).default(process.env.BENCH_DATABASE_URL ?? DEFAULT_ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop role if exists ${role}`).catch(() => {});
  await admin.end();
}
