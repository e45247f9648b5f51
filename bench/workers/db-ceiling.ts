/**
 * Ceilings (b) and (c). (b): the database's own rate for the writes one inbound webhook makes, issued directly
 * through postgres.js from this process: per message ONE statement (prepared, pipelined over a
 * pool as large as the server's) that does what the server's ingest does (look the number up,
 * upsert the contact, find-or-open the conversation, insert the message) and a pg_notify.
 *
 * The tables are copies of ours (CREATE TABLE ... (LIKE public.x INCLUDING ALL): same columns,
 * defaults, indexes, partial unique indexes) with the same foreign keys, in a schema of their
 * own, dropped afterwards. The statement mirrors our ingest statement for one webhook (ingestBatch,
 * src/modules/inbound/inbound-batch.repository.ts) and takes its rules (the contact-location merge,
 * the conversation activity that never moves back) from the same SQL fragments.
 * (c), with `batch` > 1: the same writes, `batch` messages per statement (group commit).
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
  /**
   * Messages per statement: 1 is ceiling (b); more is ceiling (c), the same writes batched (as the
   * server's group commit does: one multi-row statement from one JSON parameter, unique
   * (tenant, sender) within a statement). `inFlight` then counts statements.
   */
  batch?: number;
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

/**
 * Ceiling (c): the statement above for many messages at once (mirrors ingestBatch in
 * src/modules/inbound/inbound-batch.repository.ts, the blocked-contact branch left out as in (b)).
 */
function batchStatement(): string {
  const s = SCHEMA;
  return `
    with input as (
      -- ::text first: postgres.js would serialise a json-typed parameter (a string) once more.
      select * from json_to_recordset($1::text::json) as i(
        idx int, t uuid, a uuid, m uuid, "to" text, fr text, city text, st text, zip text, ctry text,
        opt boolean, body text, media jsonb, dropped int, sid text, seg int)
    ),
    number as (
      select distinct on (i.idx) i.idx, p.id
      from input i join public.phone_numbers p
        on p.tenant_id = i.t and p.twilio_account_id = i.a and p.e164 = i."to"
        and p.removed_at is null and p.direction = 'INBOUND_OUTBOUND'
      order by i.idx
    ),
    contact as (
      insert into ${s}.contacts as contacts (tenant_id, phone_number, city, state, zip, country, opted_out, opted_out_at)
      select i.t, i.fr, i.city, i.st, i.zip, i.ctry, coalesce(i.opt, false), case when i.opt then now() end
      from input i join number on number.idx = i.idx
      order by i.t, i.fr
      on conflict (tenant_id, phone_number) do update set
        ${MERGE_CONTACT_LOCATION},
        opted_out = coalesce((select x.opt from input x where x.t = excluded.tenant_id and x.fr = excluded.phone_number limit 1), contacts.opted_out),
        opted_out_at = case
          when (select x.opt from input x where x.t = excluded.tenant_id and x.fr = excluded.phone_number limit 1) is null then contacts.opted_out_at
          when excluded.opted_out then coalesce(case when contacts.opted_out then contacts.opted_out_at end, now())
          else null end,
        updated_at = now()
      returning id, tenant_id, phone_number
    ),
    target as (
      select i.*, number.id as number_id, contact.id as contact_id
      from input i join number on number.idx = i.idx join contact on contact.tenant_id = i.t and contact.phone_number = i.fr
    ),
    conversation as (
      insert into ${s}.conversations as conversations (tenant_id, phone_number_id, contact_id, status, unread_count, last_message_at, last_message_id)
      select t.t, t.number_id, t.contact_id, 'OPEN', 1, now(), t.m
      from target t
      order by t.t, t.number_id, t.contact_id
      on conflict (tenant_id, phone_number_id, contact_id) where status <> 'RESOLVED' do update set
        unread_count = conversations.unread_count + 1,
        ${RECORD_ACTIVITY},
        updated_at = now()
      returning id, tenant_id, phone_number_id, contact_id
    ),
    message as (
      insert into ${s}.messages (id, tenant_id, conversation_id, twilio_account_id, direction, body, media, media_dropped, status, twilio_sid, segments)
      select t.m, t.t, cv.id, t.a, 'INBOUND', t.body, t.media, t.dropped, 'RECEIVED', t.sid, t.seg
      from target t join conversation cv on cv.tenant_id = t.t and cv.phone_number_id = t.number_id and cv.contact_id = t.contact_id
      returning id, tenant_id, conversation_id
    )
    select message.id, message.conversation_id,
      pg_notify('bench_ceiling', json_build_array('a', message.tenant_id::text, message.id::text, message.conversation_id::text)::text)
    from message`;
}

export async function runDbCeiling(job: DbCeilingJob): Promise<DbCeilingResult> {
  const sql = postgres(job.databaseUrl, { max: job.poolSize, prepare: true, onnotice: () => {} });
  const batch = Math.max(1, job.batch ?? 1);
  try {
    await prepareSchema(sql);
    const text = batch > 1 ? batchStatement() : ingestStatement();
    let seq = 0;
    const many = (n: number) => {
      const used = new Set<string>();
      const rows = [];
      for (let idx = 0; idx < n; idx++) {
        const k = seq++;
        const t = job.tenants[k % job.tenants.length]!;
        let sender: string;
        do sender = `+1646${String(2_000_000 + Math.floor(Math.random() * job.sendersPerTenant)).padStart(7, '0')}`;
        while (used.has(`${t.tenantId} ${sender}`) && used.size < job.tenants.length * job.sendersPerTenant);
        used.add(`${t.tenantId} ${sender}`);
        const body = `Hi! Question about appointment #${k}: can I move it to Tuesday afternoon? Thanks`;
        rows.push({
          idx, t: t.tenantId, a: t.accountId, m: randomUUID(), to: t.e164, fr: sender, city: 'SAN FRANCISCO', st: 'CA', zip: '94105', ctry: 'US',
          opt: null, body, media: [], dropped: 0, sid: `SM${randomBytes(16).toString('hex')}`, seg: 1,
        });
      }
      return sql.unsafe(text, [JSON.stringify(rows)], { prepare: true });
    };
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
          const size = Math.min(batch, n - issued);
          issued += size;
          const t0 = performance.now();
          const rows = batch > 1 ? await many(size) : await one();
          if (rows.length !== size) throw new Error('a ceiling write stored nothing (number lookup failed?)');
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

