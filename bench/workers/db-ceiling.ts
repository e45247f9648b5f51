/**
 * Ceiling (b), the database's own rate for the writes one inbound webhook makes, issued directly
 * through postgres.js from this process: per message ONE statement (prepared, pipelined over a
 * pool as large as the server's) that does what the server's ingest does (look the number up,
 * upsert the contact, find-or-open the conversation, insert the message) and a pg_notify.
 *
 * The tables are copies of ours (CREATE TABLE ... (LIKE public.x INCLUDING ALL): same columns,
 * defaults, indexes, partial unique indexes) with the same foreign keys, in a schema of their
 * own, dropped afterwards. The statement mirrors InboundRepository.ingest
 * (src/modules/inbound/inbound.repository.ts) and takes its rules (the contact-location merge,
 * the conversation activity that never moves back) from the same SQL fragments.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import postgres from 'postgres';
import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { excluded, setClauses } from '../../src/db/sql.js';
import { contacts } from '../../src/modules/contacts/contacts.schema.js';
import { mergeContactLocation } from '../../src/modules/contacts/contacts.sql.js';
import { conversations } from '../../src/modules/conversations/conversations.schema.js';
import { recordActivity } from '../../src/modules/conversations/conversations.sql.js';
import { summarize, type LatencySummary } from '../lib/stats.js';

/** A parameter-free fragment as SQL text (the tables are aliased to their own names below). */
function fragmentText(fragment: SQL): string {
  const query = new PgDialect().sqlToQuery(fragment);
  if (query.params.length > 0) throw new Error('a shared rule fragment unexpectedly takes parameters');
  return query.sql;
}

const MERGE_CONTACT_LOCATION = fragmentText(setClauses(contacts, mergeContactLocation()));
const RECORD_ACTIVITY = fragmentText(
  setClauses(conversations, recordActivity(excluded(conversations.lastMessageAt), excluded(conversations.lastMessageId))),
);

export interface CeilingTenant {
  tenantId: string;
  accountId: string;
  e164: string;
}

export interface DbCeilingJob {
  databaseUrl: string;
  tenants: CeilingTenant[];
  count: number;
  warmup: number;
  poolSize: number;
  /** Statements outstanding at once (postgres.js pipelines them on its connections). */
  inFlight: number;
  sendersPerTenant: number;
}

export interface DbCeilingResult {
  count: number;
  stored: number;
  elapsedMs: number;
  throughput: number;
  latencyMs: LatencySummary;
}

const SCHEMA = `bench_ceiling_${process.pid}`;
const COPIED = ['contacts', 'conversations', 'messages'] as const;

async function prepareSchema(sql: postgres.Sql): Promise<void> {
  await sql.unsafe(`create schema ${SCHEMA}`);
  for (const table of COPIED) {
    await sql.unsafe(`create table ${SCHEMA}.${table} (like public.${table} including all)`);
  }
  for (const table of COPIED) {
    const fks = await sql<{ def: string }[]>`
      select pg_get_constraintdef(c.oid) as def from pg_constraint c
      where c.conrelid = ${`public.${table}`}::regclass and c.contype = 'f'`;
    for (const { def } of fks) {
      const rewritten = def.replace(/REFERENCES\s+(?:public\.)?"?(\w+)"?\(/, (_m, name: string) =>
        (COPIED as readonly string[]).includes(name) ? `REFERENCES ${SCHEMA}.${name}(` : `REFERENCES public.${name}(`,
      );
      await sql.unsafe(`alter table ${SCHEMA}.${table} add ${rewritten}`);
    }
  }
}

function ingestStatement(): string {
  const s = SCHEMA;
  // $1 tenant, $2 account, $3 to, $4 from, $5..$8 geo, $9 opt-out, $10 message id, $11 body, $12 media, $13 dropped, $14 sid, $15 segments
  return `
    with number as (
      select id from public.phone_numbers
      where tenant_id = $1::uuid and twilio_account_id = $2::uuid and e164 = $3
        and removed_at is null and direction = 'INBOUND_OUTBOUND'
      limit 1
    ),
    contact as (
      insert into ${s}.contacts as contacts (tenant_id, phone_number, city, state, zip, country, opted_out, opted_out_at)
      select $1::uuid, $4, $5, $6, $7, $8, coalesce($9::boolean, false), case when $9::boolean then now() end
      from number
      on conflict (tenant_id, phone_number) do update set
        ${MERGE_CONTACT_LOCATION},
        opted_out = coalesce($9::boolean, contacts.opted_out),
        opted_out_at = case
          when $9::boolean is null then contacts.opted_out_at
          when $9::boolean then coalesce(case when contacts.opted_out then contacts.opted_out_at end, now())
          else null end,
        updated_at = now()
      returning id
    ),
    conversation as (
      insert into ${s}.conversations as conversations (tenant_id, phone_number_id, contact_id, status, unread_count, last_message_at, last_message_id)
      select $1::uuid, number.id, contact.id, 'OPEN', 1, now(), $10::uuid
      from number, contact
      on conflict (tenant_id, phone_number_id, contact_id) where status <> 'RESOLVED' do update set
        unread_count = conversations.unread_count + 1,
        ${RECORD_ACTIVITY},
        updated_at = now()
      returning id
    ),
    message as (
      insert into ${s}.messages (id, tenant_id, conversation_id, twilio_account_id, direction, body, media, media_dropped, status, twilio_sid, segments)
      select $10::uuid, $1::uuid, conversation.id, $2::uuid, 'INBOUND', $11, $12::jsonb, $13::int, 'RECEIVED', $14, $15::int
      from conversation
      returning id, conversation_id
    )
    select message.id, message.conversation_id,
      pg_notify('bench_ceiling', json_build_array('a', $1::text, message.id::text, message.conversation_id::text)::text)
    from message`;
}

export async function runDbCeiling(job: DbCeilingJob): Promise<DbCeilingResult> {
  const sql = postgres(job.databaseUrl, { max: job.poolSize, prepare: true, onnotice: () => {} });
  try {
    await prepareSchema(sql);
    const text = ingestStatement();
    let seq = 0;
    const one = () => {
      const k = seq++;
      const t = job.tenants[k % job.tenants.length]!;
      const sender = `+1646${String(2_000_000 + Math.floor(Math.random() * job.sendersPerTenant)).padStart(7, '0')}`;
      const body = `Hi! Question about appointment #${k}: can I move it to Tuesday afternoon? Thanks`;
      return sql.unsafe(
        text,
        [t.tenantId, t.accountId, t.e164, sender, 'SAN FRANCISCO', 'CA', '94105', 'US', null, randomUUID(), body, '[]', 0, `SM${randomBytes(16).toString('hex')}`, 1],
        { prepare: true },
      );
    };
    const drive = async (n: number, latencies: number[] | null) => {
      let issued = 0;
      const worker = async () => {
        while (issued < n) {
          issued++;
          const t0 = performance.now();
          const rows = await one();
          if (rows.length !== 1) throw new Error('a ceiling write stored nothing (number lookup failed?)');
          latencies?.push(performance.now() - t0);
        }
      };
      await Promise.all(Array.from({ length: Math.min(job.inFlight, n) }, worker));
    };
    await drive(job.warmup, null);
    const latencies: number[] = [];
    const start = performance.now();
    await drive(job.count, latencies);
    const elapsedMs = performance.now() - start;
    const [{ n }] = (await sql.unsafe(`select count(*)::int as n from ${SCHEMA}.messages`)) as unknown as [{ n: number }];
    return { count: job.count, stored: n - job.warmup, elapsedMs, throughput: (job.count * 1000) / elapsedMs, latencyMs: summarize(latencies) };
  } finally {
    await sql.unsafe(`drop schema if exists ${SCHEMA} cascade`).catch(() => {});
    await sql.end({ timeout: 5 });
  }
}

