import { inArray, sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { rowsOf, type Db } from '../../db/client.js';
import { aliasedColumns, allColumns, builtOnce, columnList, excluded, literal, setClauses, tableRow } from '../../db/sql.js';
import { AutomatedMessageTrigger } from '../automations/automation.enums.js';
import { automatedMessages } from '../automations/automations.schema.js';
import { contacts } from '../contacts/contacts.schema.js';
import { mergeContactLocation, recordContactActivity } from '../contacts/contacts.sql.js';
import { ConversationStatus } from '../conversations/conversation-status.js';
import { conversations } from '../conversations/conversations.schema.js';
import { recordActivity } from '../conversations/conversations.sql.js';
import { mediaCopyJobs } from '../media/media-copy.schema.js';
import { MessageDirection, MessageStatus } from '../messages/message.enums.js';
import { messages } from '../messages/messages.schema.js';
import { NumberDirection } from '../phone-numbers/phone-number.enums.js';
import { phoneNumbers } from '../phone-numbers/phone-numbers.schema.js';
import { insertWebhookEvents } from '../webhook-events/webhook-events.sql.js';
import { INGEST_EVENTS, type IngestResult } from './inbound.repository.js';
import type { InboundSms } from './webhook-params.js';

/** The stored message's columns in a batch's answer are named `m.` + the column's name. */
const MESSAGE_PREFIX = 'm.';

const ANSWERING_TRIGGERS = [AutomatedMessageTrigger.GREETING, AutomatedMessageTrigger.OUT_OF_HOURS, AutomatedMessageTrigger.ALL_AGENTS_BUSY];

/** One webhook of a batch: its tenant and account come from the webhook key (never from the body). */
export interface IngestItem {
  tenantId: string;
  accountId: string;
  messageId: string;
  sms: InboundSms;
  /** Media copy jobs to queue with the message (`sms.media.length`). */
  copyMedia: number;
}

export type BatchOutcome =
  /** Stored by this statement. */
  | { kind: 'stored'; result: IngestResult }
  /** Its (account, MessageSid) was already stored: nothing written for it. */
  | { kind: 'duplicate' }
  /** `To` is not an active INBOUND_OUTBOUND number of its tenant and account: nothing written. */
  | { kind: 'not-our-number' }
  /** The number matched but nothing was stored (should not happen): the caller retries it alone. */
  | { kind: 'retry-alone' };

/** `alias.column` for a column of a real table read under an alias. */
function col(alias: string, column: PgColumn): SQL {
  return sql`${sql.identifier(alias)}.${sql.identifier(column.name)}`;
}

/**
 * Which statement stores a batch. `lean`, the common case (no media, no blocked contact), leaves
 * out the CTEs only those need: Postgres initialises every node of a plan on each execution,
 * whether or not rows reach it, and at one or two texts per statement (the live rates) that start-up
 * was the largest share of the statement's cost (bench, issue 16). `full` handles everything.
 */
type IngestVariant = 'lean' | 'full';

/**
 * A blocked contact's text opens nothing and raises no unread count: it joins their latest
 * conversation on this number as it is, or a new RESOLVED one (the `full` statement only).
 */
function blockedConversations(): SQL {
  return sql`
    blocked_latest as (
      select t.idx, c.id
      from target t cross join lateral (
        select ${col('c', conversations.id)} as id from ${conversations} c
        where ${col('c', conversations.tenantId)} = t.t and ${col('c', conversations.phoneNumberId)} = t.number_id
          and ${col('c', conversations.contactId)} = t.contact_id
        order by ${col('c', conversations.lastMessageAt)} desc, ${col('c', conversations.id)} desc
        limit 1
      ) c
      where t.blocked
    ),
    blocked_kept as (
      update ${conversations} set
        ${setClauses(conversations, recordActivity(sql`now()`, sql`t.m`))},
        ${sql.identifier(conversations.updatedAt.name)} = now()
      from blocked_latest b join target t on t.idx = b.idx
      where ${conversations.tenantId} = t.t and ${conversations.id} = b.id
      returning ${conversations.id}, b.idx
    ),
    blocked_opened as (
      insert into ${conversations} (${columnList(conversations.tenantId, conversations.phoneNumberId, conversations.contactId, conversations.status, conversations.unreadCount, conversations.lastMessageAt, conversations.lastMessageId, conversations.teamId)})
      select t.t, t.number_id, t.contact_id, ${literal(ConversationStatus.RESOLVED)}, 0, now(), t.m, t.team_id
      from target t
      where t.blocked and not exists (select 1 from blocked_latest b where b.idx = t.idx)
      returning ${conversations.id}, ${conversations.tenantId}, ${conversations.phoneNumberId}, ${conversations.contactId}
    ),`;
}

/** The media copy jobs of the stored texts (`copy` per text; the `full` statement only). */
function mediaCopyJobsOf(): SQL {
  return sql`
    media_jobs as (
      insert into ${mediaCopyJobs} (${columnList(mediaCopyJobs.tenantId, mediaCopyJobs.messageId, mediaCopyJobs.mediaIndex)})
      select t.t, message.id, g from message join target t on t.m = message.id, generate_series(0, t.copy - 1) as g
    ),`;
}

/**
 * The statement of ingestBatch, built by drizzle once (builtOnce): the rows come as one JSON
 * parameter, `rows`. Walking its few hundred chunks on every batch was about a tenth of the
 * server's CPU per webhook (issue 16, bench profile).
 */
function buildIngestBatchStatement(variant: IngestVariant, rows: unknown = sql.placeholder('rows')): SQL {
  const activity = recordActivity(excluded(conversations.lastMessageAt), excluded(conversations.lastMessageId));
  const full = variant === 'full';
  return sql`
    with input as (
      select * from json_to_recordset(${rows}::json) as i(
        idx int, t uuid, a uuid, m uuid, "to" text, fr text, city text, st text, zip text, ctry text,
        opt boolean, body text, media jsonb, dropped int, sid text, seg int, copy int)
    ),
    -- A Twilio retry of a stored message writes nothing (not left to the unique violation, which
    -- would undo the whole batch). A lateral probe per item, so
    -- the plan is always one look-up of messages_account_sid_uq each: written as NOT EXISTS, the
    -- planner chose a hash anti-join over a sequential scan of every message whenever the
    -- table's statistics lagged its growth (a new database, a burst), and each webhook then cost
    -- a read of the whole table. The probe names the index's columns only: given tenant_id too,
    -- a plan made while messages was small walked messages_tenant_created_idx (every message of
    -- the tenant) instead. The key is the unique index the insert would hit, and an account
    -- belongs to one tenant (messages_twilio_account_fk), so the row found is the tenant's own.
    fresh as (
      select input.* from input
      left join lateral (
        select true as stored from ${messages} m
        where ${col('m', messages.twilioAccountId)} = input.a and ${col('m', messages.twilioSid)} = input.sid
        limit 1
      ) known on true
      where known.stored is null
    ),
    -- Lateral as well: as a join, a plan made while phone_numbers looked tiny read every active
    -- number for each webhook (an unparameterised scan of phone_numbers_active_e164_uq). The probe
    -- is by the active number (unique) and its account; the tenant is compared on the row found,
    -- outside, so that no plan walks a tenant's numbers by phone_numbers_tenant_idx.
    number as (
      select f.idx, p.id, p.team_id, p.hours
      from fresh f cross join lateral (
        select ${col('p', phoneNumbers.id)} as id, ${col('p', phoneNumbers.tenantId)} as tenant_id, ${col('p', phoneNumbers.teamId)} as team_id,
          ${col('p', phoneNumbers.operatingHoursId)} is not null as hours
        from ${phoneNumbers} p
        where ${col('p', phoneNumbers.e164)} = f."to" and ${col('p', phoneNumbers.removedAt)} is null
          and ${col('p', phoneNumbers.twilioAccountId)} = f.a
          and ${col('p', phoneNumbers.direction)} = ${literal(NumberDirection.INBOUND_OUTBOUND)}
        limit 1
      ) p
      where p.tenant_id = f.t
    ),
    contact as (
      insert into ${contacts} (${columnList(contacts.tenantId, contacts.phoneNumber, contacts.city, contacts.state, contacts.zip, contacts.country, contacts.optedOut, contacts.optedOutAt)})
      select f.t, f.fr, f.city, f.st, f.zip, f.ctry, coalesce(f.opt, false), case when f.opt then now() end
      from fresh f join number on number.idx = f.idx
      order by f.t, f.fr
      on conflict (${columnList(contacts.tenantId, contacts.phoneNumber)}) do update set
        ${setClauses(contacts, mergeContactLocation())},
        ${sql.identifier(contacts.optedOut.name)} = coalesce(
          (select i.opt from input i where i.t = ${excluded(contacts.tenantId)} and i.fr = ${excluded(contacts.phoneNumber)} limit 1),
          ${contacts.optedOut}),
        ${sql.identifier(contacts.optedOutAt.name)} = case
          when (select i.opt from input i where i.t = ${excluded(contacts.tenantId)} and i.fr = ${excluded(contacts.phoneNumber)} limit 1) is null
            then ${contacts.optedOutAt}
          when ${excluded(contacts.optedOut)} then coalesce(case when ${contacts.optedOut} then ${contacts.optedOutAt} end, now())
          else null end,
        ${setClauses(contacts, recordContactActivity(sql`now()`))},
        ${sql.identifier(contacts.updatedAt.name)} = now()
      returning ${contacts.id}, ${contacts.blocked}, ${contacts.tenantId}, ${contacts.phoneNumber}
    ),
    -- One row per item whose number matched: its contact and number.
    target as (
      select f.*, number.id as number_id, number.team_id, number.hours, contact.id as contact_id, contact.blocked
      from fresh f join number on number.idx = f.idx
        join contact on contact.tenant_id = f.t and contact.phone_number = f.fr
    ),
    live_conversation as (
      insert into ${conversations} (${columnList(conversations.tenantId, conversations.phoneNumberId, conversations.contactId, conversations.status, conversations.unreadCount, conversations.lastMessageAt, conversations.lastMessageId, conversations.teamId, conversations.firstInboundAt)})
      select t.t, t.number_id, t.contact_id, ${literal(ConversationStatus.OPEN)}, 1, now(), t.m, t.team_id, now()
      from target t
      where not t.blocked
      order by t.t, t.number_id, t.contact_id
      -- The predicate of conversations_live_uq, word for word.
      on conflict (${columnList(conversations.tenantId, conversations.phoneNumberId, conversations.contactId)}) where status <> ${literal(ConversationStatus.RESOLVED)} do update set
        ${sql.identifier(conversations.unreadCount.name)} = ${conversations.unreadCount} + 1,
        ${sql.identifier(conversations.status.name)} = case when ${conversations.status} = ${literal(ConversationStatus.PENDING)}
          then ${literal(ConversationStatus.OPEN)} else ${conversations.status} end,
        ${sql.identifier(conversations.firstInboundAt.name)} = coalesce(${conversations.firstInboundAt}, ${excluded(conversations.firstInboundAt)}),
        ${setClauses(conversations, activity)},
        ${sql.identifier(conversations.updatedAt.name)} = now()
      returning ${conversations.id}, ${conversations.teamId}, ${conversations.assigneeId}, (xmax = 0) as opened,
        ${conversations.tenantId}, ${conversations.phoneNumberId}, ${conversations.contactId}
    ),
    ${full ? blockedConversations() : sql``}
    conversation as (
      select t.idx, lc.id, lc.team_id, lc.assignee_id, lc.opened from live_conversation lc
        join target t on t.t = lc.tenant_id and t.number_id = lc.phone_number_id and t.contact_id = lc.contact_id and not t.blocked
      ${
        full
          ? sql`union all select bk.idx, bk.id, null::uuid, null::uuid, false from blocked_kept bk
      union all select t.idx, bo.id, null::uuid, null::uuid, false from blocked_opened bo
        join target t on t.t = bo.tenant_id and t.number_id = bo.phone_number_id and t.contact_id = bo.contact_id and t.blocked`
          : sql``
      }
    ),
    message as (
      insert into ${messages} (${columnList(messages.id, messages.tenantId, messages.conversationId, messages.twilioAccountId, messages.direction, messages.body, messages.media, messages.mediaDropped, messages.status, messages.twilioSid, messages.segments)})
      select t.m, t.t, cv.id, t.a, ${literal(MessageDirection.INBOUND)}, t.body, t.media, t.dropped, ${literal(MessageStatus.RECEIVED)}, t.sid, t.seg
      from target t join conversation cv on cv.idx = t.idx
      -- The whole row: the live events of this instance carry it (LiveEvent.committed).
      returning ${allColumns(messages)}
    ),
    ${full ? mediaCopyJobsOf() : sql``}
    -- Outgoing webhooks, committed with the texts (only tenants with a subscribed endpoint write any).
    webhook_events as (${insertWebhookEvents(sql`
      select t.t as tenant_id, v.event_type, case when v.ord = 3 then cv.id else message.id end as subject_id,
        message.conversation_id, t.idx * 4 + v.ord as ord
      from message join target t on t.m = message.id join conversation cv on cv.idx = t.idx, ${INGEST_EVENTS} as v(ord, event_type)
      where not t.blocked and (v.ord = 1 or (v.ord = 2 and t.opt is true) or (v.ord = 3 and cv.opened))
    `)})
    select i.idx, (f.idx is not null) as fresh, (t.idx is not null) as matched,
      message.id as "messageId", message.conversation_id as "conversationId",
      cv.team_id as "teamId", cv.assignee_id as "assigneeId", cv.opened as "opened", t.contact_id as "contactId", t.blocked as "contactBlocked",
      t.hours as "numberHasHours",
      answer.yes is not null as "answerable",
      ${aliasedColumns(messages, MESSAGE_PREFIX, 'message')}
    from input i
      left join fresh f on f.idx = i.idx
      left join target t on t.idx = i.idx
      left join conversation cv on cv.idx = i.idx
      left join message on message.id = t.m
      -- A probe of automated_messages_number_trigger_uq per stored text: as EXISTS, the planner
      -- hashed a sequential scan of every tenant's automated messages for each batch. The index
      -- is searched by (tenant, number) and the number's few triggers are filtered as text: with
      -- the trigger list in the index condition too (three descents), a plan made before the
      -- table's first analysis preferred walking all of the tenant's automated messages by
      -- automated_messages_tenant_id_uq.
      left join lateral (
        select true as yes from ${automatedMessages} am
        where ${col('am', automatedMessages.tenantId)} = t.t and ${col('am', automatedMessages.phoneNumberId)} = t.number_id
          and ${inArray(sql`${col('am', automatedMessages.trigger)}::text`, ANSWERING_TRIGGERS)} and ${col('am', automatedMessages.enabled)}
        limit 1
      ) answer on true
    order by i.idx
  `;
}
const ingestBatchStatements: Record<IngestVariant, (values: { rows: unknown }) => SQL> = {
  lean: builtOnce<'rows'>(() => buildIngestBatchStatement('lean')),
  full: builtOnce<'rows'>(() => buildIngestBatchStatement('full')),
};

/** The statements as run and as their template builds them with the value in place, for the test that holds them equal. */
export function ingestBatchStatementForTests(rowsJson: string): Record<IngestVariant, { builtOnce: SQL; direct: SQL }> {
  const both = (variant: IngestVariant) => ({
    builtOnce: ingestBatchStatements[variant]({ rows: rowsJson }),
    direct: buildIngestBatchStatement(variant, rowsJson),
  });
  return { lean: both('lean'), full: both('full') };
}

/**
 * Stores inbound texts, many webhooks of any tenants in ONE statement (group commit: one round
 * trip and one commit), or one by itself (the same statement, so one set of rules). Per text:
 *
 * - number: `To` must be an active INBOUND_OUTBOUND number of its tenant and account, else
 *   nothing is written for it (`not-our-number`).
 * - contact: upserted on (tenant, phone); geo fills in and never blanks out; STOP/START applied;
 *   its activity (the contacts list order) moves forward.
 * - conversation: the live one (not RESOLVED) of (tenant, number, contact), opened if none.
 *   Concurrent first messages meet at the partial unique index conversations_live_uq: the
 *   loser's insert becomes the update of the winner's row (ON CONFLICT ... DO UPDATE); `xmax = 0`
 *   tells opened. A blocked contact's text opens nothing and raises no unread count: it joins
 *   their latest conversation on this number as it is (RESOLVED since the block), or a new
 *   RESOLVED one.
 * - message: keyed on (account, MessageSid); media copy jobs, outgoing webhook events and
 *   `answerable` (an enabled automated answer on the number) in the same statement.
 *
 * Two statements hold these rules: `full`, and `lean` without the media jobs and the blocked
 * contact's branch (IngestVariant). A batch with media goes to `full`; otherwise `lean` runs,
 * and the texts of blocked contacts it meets (it stores nothing for them but their contact's
 * upsert) go through `full` next, before any caller is answered.
 *
 * The rows come as one JSON parameter (the statement text never changes with the batch size, so
 * each is prepared once). Tenant isolation: every row carries the tenant of the account its
 * webhook key resolved to, and every join and insert uses that row's own `tenant_id`, so rows
 * of different tenants never meet (composite foreign keys check it again).
 *
 * The caller guarantees, within one call: at most one item per (tenant, From) (so each contact
 * and conversation row is touched once: ON CONFLICT DO UPDATE refuses to touch a row twice) and
 * at most one per (account, MessageSid). A MessageSid already stored is skipped and reported
 * `duplicate`; one stored concurrently by another transaction raises the unique violation on
 * messages_account_sid_uq, and then the whole statement is undone (the caller re-runs each item
 * alone, and a lone item's caller treats the violation as "already stored").
 * Rows are written in (tenant, phone) order so that concurrent batches lock contacts and
 * conversations in one order (no deadlock between batches).
 */
export async function ingestBatch(db: Db, items: readonly IngestItem[]): Promise<BatchOutcome[]> {
  const out = await runIngestStatement(db, items.some((it) => it.copyMedia > 0) ? 'full' : 'lean', items);
  // A blocked contact's texts go through the full statement. The lean one wrote only their
  // contacts' upserts, which the full one repeats to the same effect (location merged, opt-out
  // kept with its first time, activity now).
  const blocked = out.flatMap((o, idx) => (o.kind === 'blocked' ? [idx] : []));
  if (blocked.length > 0) {
    const again = await runIngestStatement(db, 'full', blocked.map((idx) => items[idx]!));
    blocked.forEach((idx, i) => (out[idx] = again[i]!));
  }
  // (`full` never answers `blocked`.)
  return out.map((o) => (o.kind === 'blocked' ? { kind: 'retry-alone' } : o));
}

/** One execution of a variant: each item's outcome, or `blocked` (lean only: its contact is blocked, nothing but the contact written). */
async function runIngestStatement(db: Db, variant: IngestVariant, items: readonly IngestItem[]): Promise<Array<BatchOutcome | { kind: 'blocked' }>> {
  const rows = items.map((it, idx) => ({
    idx,
    t: it.tenantId,
    a: it.accountId,
    m: it.messageId,
    to: it.sms.to,
    fr: it.sms.from,
    city: it.sms.geo.city ?? null,
    st: it.sms.geo.state ?? null,
    zip: it.sms.geo.zip ?? null,
    ctry: it.sms.geo.country ?? null,
    opt: it.sms.optChange === null ? null : it.sms.optChange === 'OPT_OUT',
    body: it.sms.body,
    media: it.sms.media,
    dropped: it.sms.mediaDropped,
    sid: it.sms.messageSid,
    seg: it.sms.segments,
    copy: it.copyMedia,
  }));
  const result = await db.execute(ingestBatchStatements[variant]({ rows: JSON.stringify(rows) }));
  type Row = {
    idx: number;
    fresh: boolean;
    matched: boolean;
    messageId: string | null;
    conversationId: string | null;
    teamId: string | null;
    assigneeId: string | null;
    opened: boolean | null;
    contactId: string | null;
    contactBlocked: boolean | null;
    numberHasHours: boolean | null;
    answerable: boolean;
  };
  const out: Array<BatchOutcome | { kind: 'blocked' }> = items.map(() => ({ kind: 'retry-alone' }));
  for (const row of rowsOf<Row>(result)) {
    const idx = Number(row.idx);
    if (!row.fresh) out[idx] = { kind: 'duplicate' };
    else if (!row.matched) out[idx] = { kind: 'not-our-number' };
    else if (variant === 'lean' && row.contactBlocked === true && !row.messageId) out[idx] = { kind: 'blocked' };
    else if (row.messageId && row.conversationId && row.contactId) {
      out[idx] = {
        kind: 'stored',
        result: {
          messageId: row.messageId,
          conversationId: row.conversationId,
          teamId: row.teamId ?? null,
          assigneeId: row.assigneeId ?? null,
          message: tableRow(messages, row, MESSAGE_PREFIX),
          opened: row.opened === true,
          contactId: row.contactId,
          contactBlocked: row.contactBlocked === true,
          answerable: row.answerable === true,
          numberHasHours: row.numberHasHours === true,
        },
      };
    }
  }
  return out;
}
