import { eq, sql, type SQL } from 'drizzle-orm';
import { TenantRepository } from '../../db/tenant-repository.js';
import { rowsOf, type Db } from '../../db/client.js';
import { columnList, literal, setClauses } from '../../db/sql.js';
import { contacts } from '../contacts/contacts.schema.js';
import { mergeContactLocation, recordContactActivity } from '../contacts/contacts.sql.js';
import { ConversationStatus } from '../conversations/conversation-status.js';
import { conversations } from '../conversations/conversations.schema.js';
import { recordActivity } from '../conversations/conversations.sql.js';
import { MessageDirection, MessageStatus } from '../messages/message.enums.js';
import { messages, type MessageRow } from '../messages/messages.schema.js';
import { NumberDirection } from '../phone-numbers/phone-number.enums.js';
import { phoneNumbers } from '../phone-numbers/phone-numbers.schema.js';
import { statusesBefore } from '../messages/message-status.js';
import { mediaCopyJobs } from '../media/media-copy.schema.js';
import { insertWebhookEvents } from '../webhook-events/webhook-events.sql.js';
import type { InboundSms } from './webhook-params.js';

export interface IngestResult {
  messageId: string;
  conversationId: string;
  /**
   * The number has an enabled GREETING, OUT_OF_HOURS or ALL_AGENTS_BUSY text: only then is an
   * automated answer worth deciding (read in the same statement: no extra round trip).
   */
  answerable?: boolean;
  /**
   * The number has an operating-hours schedule (routing's hours guard needs no query for an
   * opening whose number has none); undefined when this path did not read it.
   */
  numberHasHours?: boolean;
  /** The conversation's team (its number's when opened). */
  teamId: string | null;
  /** The conversation's assignee, when this path read it (with `message`). */
  assigneeId?: string | null;
  /** The message row as stored, when this path returned it: this instance's live event carries it. */
  message?: MessageRow;
  /** This message opened the conversation (first text, or a new one after RESOLVED). */
  opened: boolean;
  contactId: string;
  /** The contact is blocked: the text was stored, nothing else may happen (no event, routing, automation). */
  contactBlocked: boolean;
}

export interface StatusUpdate {
  /** Our id from the callback URL's query string, when it is a uuid. */
  messageId: string | null;
  messageSid: string | null;
  status: MessageStatus;
  errorCode: number | null;
  errorMessage: string | null;
  /** Mark the contact opted out (error 21610) when the status moves. */
  optOut: boolean;
}

export interface StatusUpdateResult {
  /** Null: no outbound message of this account matched. */
  messageId: string | null;
  conversationId: string | null;
  /** Whether the row changed (status moved forward, or Twilio's SID stored). */
  changed: boolean;
  /** The contact this callback opted out (error 21610), when it was not already. */
  optedOutContactId: string | null;
  /** The campaign that sent the message, when it did (its progress counts changed). */
  campaignId: string | null;
}

/** Durable copy jobs for the message's media (the media-copy worker), committed with the message. */
function mediaJobs(tenantId: string, count: number): SQL {
  return sql`media_jobs as (
        insert into ${mediaCopyJobs} (${columnList(mediaCopyJobs.tenantId, mediaCopyJobs.messageId, mediaCopyJobs.mediaIndex)})
        select ${tenantId}::uuid, message.id, i from message, generate_series(0, ${count}::int - 1) as i
      )`;
}

/**
 * The webhook events an inbound text may announce, in the order they are delivered (ord): the
 * text, the opt-out it made (STOP), the conversation it opened. Shared by both ingest statements.
 */
export const INGEST_EVENTS = sql.raw(`(values (1, 'MESSAGE_RECEIVED'), (2, 'CONTACT_OPTED_OUT'), (3, 'CONVERSATION_OPENED'))`);

/** SQL list of enum constants (never client input), for `status in (...)`. */
function statusList(statuses: readonly MessageStatus[]): SQL {
  return sql.join(
    statuses.map((s) => sql.raw(`'${s}'`)),
    sql`, `,
  );
}

/**
 * Per target status, the condition under which a message may move to it; built once, as status
 * callbacks are the most frequent webhook. A status nothing may move to (RECEIVED) yields `false`
 * and the callback can still teach us the SID.
 */
const ADVANCES = new Map<MessageStatus, SQL>(
  (Object.values(MessageStatus) as MessageStatus[]).map((to) => {
    const before = statusesBefore(to);
    return [to, before.length > 0 ? sql`m.status in (${statusList(before)})` : sql`false`];
  }),
);

/**
 * The contact upsert of both inbound statements (a CTE body reading `number`): upserted on
 * (tenant, phone); geo fills in and never blanks out; STOP/START applied. Texts to an
 * OUTBOUND-only number do not move the contact up the contacts list (`recordActivity: false`).
 */
function upsertContact(t: string, sms: InboundSms, opts: { recordActivity: boolean }): SQL {
  const optOut = sms.optChange === null ? null : sms.optChange === 'OPT_OUT';
  const optOutParam = sql`${optOut}::boolean`;
  const activity = opts.recordActivity ? sql`${setClauses(contacts, recordContactActivity(sql`now()`))},` : sql``;
  return sql`
        insert into ${contacts} (${columnList(contacts.tenantId, contacts.phoneNumber, contacts.city, contacts.state, contacts.zip, contacts.country, contacts.optedOut, contacts.optedOutAt)})
        select ${t}::uuid, ${sms.from}, ${sms.geo.city ?? null}, ${sms.geo.state ?? null}, ${sms.geo.zip ?? null},
          ${sms.geo.country ?? null}, coalesce(${optOutParam}, false), case when ${optOutParam} then now() end
        from number
        on conflict (${columnList(contacts.tenantId, contacts.phoneNumber)}) do update set
          ${setClauses(contacts, mergeContactLocation())},
          ${sql.identifier(contacts.optedOut.name)} = coalesce(${optOutParam}, ${contacts.optedOut}),
          ${sql.identifier(contacts.optedOutAt.name)} = case
            when ${optOutParam} is null then ${contacts.optedOutAt}
            when ${optOutParam} then coalesce(case when ${contacts.optedOut} then ${contacts.optedOutAt} end, now())
            else null end,
          ${activity}
          ${sql.identifier(contacts.updatedAt.name)} = now()
        returning ${contacts.id}, ${contacts.blocked}
      `;
}

/**
 * The webhook writes, bound to the tenant of the account the webhook key resolved to. Each is a
 * single statement (data-modifying CTEs), i.e. one round trip and atomic without an explicit
 * transaction: the hot path of the product. The SQL text of each is fixed (only parameters vary)
 * so that Postgres plans it once per connection.
 */
export class InboundRepository extends TenantRepository {
  constructor(
    db: Db,
    tenantId: string,
    private readonly accountId: string,
  ) {
    super(db, tenantId);
  }

  /** The account's live number `to` of that direction (its id and team): the CTE `number` of the ingest statements. */
  private receivingNumber(to: string, direction: NumberDirection): SQL {
    return sql`
        select ${phoneNumbers.id}, ${phoneNumbers.teamId} from ${phoneNumbers}
        where ${phoneNumbers.tenantId} = ${this.tenantId}::uuid and ${phoneNumbers.twilioAccountId} = ${this.accountId}::uuid
          and ${phoneNumbers.e164} = ${to}
          and ${phoneNumbers.removedAt} is null and ${phoneNumbers.direction} = ${literal(direction)}
        limit 1`;
  }

  /**
   * An inbound text to one of our OUTBOUND-only numbers, or null when `To` is not one. STOP and
   * START still change the contact's opt-out (the law requires it); the text is kept in that
   * contact's conversation for the number (the live one if an agent or a campaign started one,
   * else the most recent, else a new RESOLVED one) without reopening it, counting it unread or
   * moving it up the inbox. One statement, keyed on (account, MessageSid) like ingest.
   */
  async ingestOnOutboundOnlyNumber(messageId: string, sms: InboundSms, copyMedia = 0): Promise<{ messageId: string; conversationId: string } | null> {
    const t = this.tenantId;
    const result = await this.db.execute(sql`
      with number as (${this.receivingNumber(sms.to, NumberDirection.OUTBOUND)}),
      contact as (${upsertContact(t, sms, { recordActivity: false })}),
      existing as (
        select c.id from ${conversations} c, number, contact
        where c.tenant_id = ${t}::uuid and c.phone_number_id = number.id and c.contact_id = contact.id
        order by (c.status <> ${literal(ConversationStatus.RESOLVED)}) desc, c.last_message_at desc
        limit 1
      ),
      created as (
        insert into ${conversations} (${columnList(conversations.tenantId, conversations.phoneNumberId, conversations.contactId, conversations.status, conversations.unreadCount, conversations.lastMessageAt, conversations.lastMessageId)})
        select ${t}::uuid, number.id, contact.id, ${literal(ConversationStatus.RESOLVED)}, 0, now(), ${messageId}::uuid
        from number, contact
        where not exists (select 1 from existing)
        returning ${conversations.id}
      ),
      conversation as (
        select id from existing union all select id from created
      ),
      message as (
        insert into ${messages} (${columnList(messages.id, messages.tenantId, messages.conversationId, messages.twilioAccountId, messages.direction, messages.body, messages.media, messages.mediaDropped, messages.status, messages.twilioSid, messages.segments)})
        select ${messageId}::uuid, ${t}::uuid, conversation.id, ${this.accountId}::uuid, ${literal(MessageDirection.INBOUND)}, ${sms.body},
          ${JSON.stringify(sms.media)}::jsonb, ${sms.mediaDropped}::int, ${literal(MessageStatus.RECEIVED)}, ${sms.messageSid}, ${sms.segments}::int
        from conversation
        returning ${messages.id}, ${messages.conversationId}
      ),
      ${mediaJobs(t, copyMedia)}
      select id as "messageId", conversation_id as "conversationId" from message
    `);
    const [row] = rowsOf<{ messageId: string; conversationId: string }>(result);
    return row ?? null;
  }

  /**
   * Moves an outbound message forward (never back: the WHERE admits only the statuses that may
   * precede the new one, re-checked on the locked row), stores Twilio's SID when we lacked it,
   * and with `optOut` marks the conversation's contact opted out. One statement.
   */
  async applyStatus(update: StatusUpdate): Promise<StatusUpdateResult> {
    const t = this.tenantId;
    const advances = ADVANCES.get(update.status)!;
    const result = await this.db.execute(sql`
      with target as (
        select id from messages
        where tenant_id = ${t}::uuid and twilio_account_id = ${this.accountId}::uuid and direction = 'OUTBOUND'
          and (id = ${update.messageId}::uuid or twilio_sid = ${update.messageSid})
        -- Our id wins over the SID should they ever name different rows.
        order by (id = ${update.messageId}::uuid) desc nulls last
        limit 1
      ),
      updated as (
        update messages m set
          status = case when ${advances} then ${update.status}::message_status else m.status end,
          error_code = case when ${advances} and ${update.errorCode}::int is not null then ${update.errorCode}::int else m.error_code end,
          error_message = case when ${advances} and ${update.errorCode}::int is not null then ${update.errorMessage} else m.error_message end,
          twilio_sid = coalesce(m.twilio_sid, ${update.messageSid}),
          updated_at = now()
        from target
        where m.id = target.id and m.tenant_id = ${t}::uuid
          and (${advances} or (m.twilio_sid is null and ${update.messageSid}::text is not null))
        returning m.id, m.conversation_id, m.status, m.campaign_id
      ),
      opted_out as (
        update contacts set opted_out = true, opted_out_at = coalesce(contacts.opted_out_at, now()), updated_at = now()
        where ${update.optOut}::boolean and contacts.tenant_id = ${t}::uuid and contacts.opted_out = false
          and contacts.id = (
            select c.contact_id from conversations c join updated u on u.conversation_id = c.id
            where c.tenant_id = ${t}::uuid and u.status = ${update.status}::message_status
          )
        returning contacts.id
      ),
      -- The status moved (not only the SID learned): MESSAGE_STATUS_CHANGED, committed with it.
      webhook_events as (${insertWebhookEvents(sql`
        select ${t}::uuid as tenant_id, 'MESSAGE_STATUS_CHANGED' as event_type, u.id as subject_id, u.conversation_id, 1 as ord
        from updated u where u.status = ${update.status}::message_status
      `)})
      select target.id as "messageId", updated.conversation_id as "conversationId",
        (updated.id is not null) as "changed", (select id from opted_out limit 1) as "optedOutContactId",
        updated.campaign_id as "campaignId"
      from target left join updated on true
    `);
    const [row] = rowsOf<{ messageId: string; conversationId: string | null; changed: boolean; optedOutContactId: string | null; campaignId: string | null }>(result);
    if (!row) return { messageId: null, conversationId: null, changed: false, optedOutContactId: null, campaignId: null };
    return {
      messageId: row.messageId,
      conversationId: row.conversationId,
      changed: row.changed === true,
      optedOutContactId: row.optedOutContactId ?? null,
      campaignId: row.campaignId ?? null,
    };
  }

  /** The message a Twilio retry repeats (for re-running its automated answer, which is idempotent). */
  async findBySid(messageSid: string): Promise<{ messageId: string; conversationId: string } | null> {
    const [row] = await this.db
      .select({ messageId: messages.id, conversationId: messages.conversationId })
      .from(messages)
      .where(this.scoped(messages, eq(messages.twilioAccountId, this.accountId), eq(messages.twilioSid, messageSid)))
      .limit(1);
    return row ?? null;
  }
}
