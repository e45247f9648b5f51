import { and, eq, isNull, sql, type SQL } from 'drizzle-orm';
import { rowsOf, type Db } from '../../db/client.js';
import { arrayLiteral, columnList, literal, setClauses, tenantParam } from '../../db/sql.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { mergeContactLocation, recordContactActivity } from '../contacts/contacts.sql.js';
import { contacts } from '../contacts/contacts.schema.js';
import { ConversationStatus } from '../conversations/conversation-status.js';
import { conversations } from '../conversations/conversations.schema.js';
import { recordMessageSet } from '../conversations/conversations.sql.js';
import { MessageDirection, MessageSource, MessageStatus } from '../messages/message.enums.js';
import { messages } from '../messages/messages.schema.js';
import { outbox } from '../outbox/outbox.schema.js';
import { phoneNumbers, type PhoneNumberRow } from '../phone-numbers/phone-numbers.schema.js';
import { tenants } from '../tenants/tenants.schema.js';
import { CampaignStatus, RecipientState } from './campaign.enums.js';
import { campaignRecipients, campaigns, type CampaignRecipientRow, type CampaignRow } from './campaigns.schema.js';

/** Scheduled campaigns whose time has come become RUNNING (every tenant's: the runner serves them all). */
export function startDueCampaigns(db: Db): Promise<CampaignRow[]> {
  return db
    .update(campaigns)
    .set({ status: CampaignStatus.RUNNING, startedAt: sql`coalesce(${campaigns.startedAt}, now())`, updatedAt: sql`now()` })
    .where(and(eq(campaigns.status, CampaignStatus.SCHEDULED), sql`${campaigns.scheduledAt} <= now()`))
    .returning();
}

/** Running campaigns of every tenant, the longest running first. */
export function runningCampaigns(db: Db, limit: number): Promise<CampaignRow[]> {
  return db.select().from(campaigns).where(eq(campaigns.status, CampaignStatus.RUNNING)).orderBy(campaigns.startedAt).limit(limit);
}

/** A recipient's contact as the hand-over needs it. */
export interface RecipientContact {
  id: string;
  phoneNumber: string;
  name: string | null;
  optedOut: boolean;
  blocked: boolean;
}

/** A recipient that gets no text in this batch: skipped (state and reason), or deferred (notBefore). */
export interface RecipientChange {
  id: number;
  state?: RecipientState;
  reason?: string;
  notBefore?: Date;
}

/** One campaign text to queue: its recipient, where it goes, what it says. */
export interface CampaignText {
  recipientId: number;
  conversationId: string;
  body: string;
  segments: number;
}

/** What the campaign runner reads and writes for one campaign of one tenant. */
export class CampaignRunRepository extends TenantRepository {
  async sendingNumber(phoneNumberId: string): Promise<PhoneNumberRow | undefined> {
    const [row] = await this.db.select().from(phoneNumbers).where(this.scoped(phoneNumbers, eq(phoneNumbers.id, phoneNumberId))).limit(1);
    return row;
  }

  /**
   * Messages of the campaign handed to the outbox and not yet sent (or failed): its jobs still in
   * the outbox (a job is deleted once its message is SENT or FAILED). Read from the sending
   * number's outbox jobs, not from the campaign's recipients: those stay QUEUED once handed over,
   * so counting through them read every text sent so far on every pass (17 ms at 5,000).
   */
  async inFlight(campaignId: string, phoneNumberId: string): Promise<number> {
    const result = await this.db.execute(sql`
      with job as materialized (
        select ${outbox.messageId} as message_id from ${outbox}
        where ${outbox.tenantId} = ${this.tenantId}::uuid and ${outbox.phoneNumberId} = ${phoneNumberId}::uuid
      )
      -- By primary key alone, the tenant compared on the row found (see CampaignsRepository's
      -- recipients view: given the tenant, a plan on stale statistics walked the tenant's rows).
      select count(*)::int as n from job
      cross join lateral (
        select ${messages.tenantId} as tenant_id, ${messages.campaignId} as campaign_id from ${messages} where ${messages.id} = job.message_id limit 1
      ) m
      where m.tenant_id = ${this.tenantId}::uuid and m.campaign_id = ${campaignId}::uuid
    `);
    return rowsOf<{ n: number }>(result)[0]?.n ?? 0;
  }

  /**
   * The campaign's status under a shared lock: a pause or cancel waits for the batch that holds
   * it to commit, and the batch sees the campaign as it is now.
   */
  async lockStatus(campaignId: string): Promise<CampaignStatus | undefined> {
    const [row] = await this.db
      .select({ status: campaigns.status })
      .from(campaigns)
      .where(this.scoped(campaigns, eq(campaigns.id, campaignId)))
      .for('share');
    return row?.status as CampaignStatus | undefined;
  }

  /** Up to `limit` pending recipients due now, locked (SKIP LOCKED: instances share the work), in submission order. */
  claimPending(campaignId: string, limit: number): Promise<CampaignRecipientRow[]> {
    return this.db
      .select()
      .from(campaignRecipients)
      .where(
        this.scoped(
          campaignRecipients,
          eq(campaignRecipients.campaignId, campaignId),
          eq(campaignRecipients.state, RecipientState.PENDING),
          sql`(${campaignRecipients.notBefore} is null or ${campaignRecipients.notBefore} <= now())`,
        ),
      )
      .orderBy(campaignRecipients.id)
      .limit(limit)
      .for('update', { skipLocked: true });
  }

  async hasPending(campaignId: string): Promise<boolean> {
    const [row] = await this.db
      .select({ id: campaignRecipients.id })
      .from(campaignRecipients)
      .where(this.scoped(campaignRecipients, eq(campaignRecipients.campaignId, campaignId), eq(campaignRecipients.state, RecipientState.PENDING)))
      .limit(1);
    return row !== undefined;
  }

  async tenantName(): Promise<string | null> {
    const [row] = await this.db.select({ name: tenants.name }).from(tenants).where(eq(tenants.id, this.tenantId));
    return row?.name ?? null;
  }

  /**
   * Recipients of a batch that get no text now: SKIPPED with a reason, or left PENDING until
   * `notBefore` (their send window). One statement for the batch; a field not given is kept.
   */
  async setRecipients(changes: readonly RecipientChange[]): Promise<void> {
    if (changes.length === 0) return;
    const R = campaignRecipients;
    // One json parameter: one statement text whatever the batch's size.
    await this.db.execute(sql`
      update ${R} set
        ${sql.identifier(R.state.name)} = coalesce(v.state::campaign_recipient_state, ${R.state}),
        ${sql.identifier(R.reason.name)} = coalesce(v.reason, ${R.reason}),
        ${sql.identifier(R.notBefore.name)} = coalesce(v."notBefore", ${R.notBefore})
      from json_to_recordset(${JSON.stringify(changes)}::json) as v(id bigint, state text, reason text, "notBefore" timestamptz)
      where ${R.tenantId} = ${tenantParam(this.tenantId)} and ${R.id} = v.id
    `);
  }

  /**
   * The recipients' contacts, created where missing (one statement for a batch): a phone number
   * appears once in a campaign, and the caller passes each once.
   */
  async upsertContacts(phoneNumbers: readonly string[]): Promise<RecipientContact[]> {
    if (phoneNumbers.length === 0) return [];
    // unnest over one array parameter: one statement text whatever the batch's size. Sorted, so
    // two batches sharing contacts (two campaigns of a tenant) lock them in the same order.
    const result = await this.db.execute(sql`
      insert into ${contacts} (${columnList(contacts.tenantId, contacts.phoneNumber)})
      select ${this.tenantId}::uuid, phone from unnest(${arrayLiteral([...phoneNumbers].sort())}::text[]) as phone
      on conflict (${columnList(contacts.tenantId, contacts.phoneNumber)})
      do update set ${setClauses(contacts, { ...mergeContactLocation(), updatedAt: sql`now()` })}
      returning ${contacts.id}, ${contacts.phoneNumber}, ${contacts.name}, ${contacts.optedOut}, ${contacts.blocked}
    `);
    return rowsOf<Record<string, unknown>>(result).map((r) => ({
      id: String(r['id']),
      phoneNumber: String(r['phone_number']),
      name: (r['name'] as string | null) ?? null,
      optedOut: r['opted_out'] === true,
      blocked: r['blocked'] === true,
    }));
  }

  /** The recipients' names for contacts that have none (one statement). */
  async nameContacts(named: ReadonlyArray<{ contactId: string; name: string }>): Promise<void> {
    if (named.length === 0) return;
    await this.db.execute(sql`
      update ${contacts} set ${sql.identifier(contacts.name.name)} = v.name
      from json_to_recordset(${JSON.stringify(named)}::json) as v("contactId" uuid, name text)
      where ${contacts.tenantId} = ${this.tenantId}::uuid and ${contacts.id} = v."contactId" and ${contacts.name} is null
    `);
  }

  /** The live (not RESOLVED) conversation on this number of each contact that has one, by contact id. */
  async liveConversations(phoneNumberId: string, contactIds: readonly string[]): Promise<Map<string, string>> {
    if (contactIds.length === 0) return new Map();
    const C = conversations;
    // One probe per contact on the live-conversation key (the partial unique index: its predicate
    // written as a literal, so a generic plan can use it), whatever the statistics say of the
    // tenant (tenantParam: this statement is planned on every call).
    const result = await this.db.execute(sql`
      select c.id, c.contact_id from unnest(${arrayLiteral(contactIds)}::uuid[]) as k(contact_id)
      cross join lateral (
        select ${C.id} as id, ${C.contactId} as contact_id from ${C}
        where ${C.tenantId} = ${tenantParam(this.tenantId)} and ${C.phoneNumberId} = ${phoneNumberId}::uuid and ${C.contactId} = k.contact_id
          and ${C.status} <> ${literal(ConversationStatus.RESOLVED)}
        limit 1
      ) c
    `);
    return new Map(rowsOf<{ id: string; contact_id: string }>(result).map((r) => [String(r.contact_id), String(r.id)]));
  }

  /**
   * New PENDING conversations (waiting for the customer) for these contacts, by contact id; a
   * contact whose live conversation appeared meanwhile (an inbound text) is left out.
   */
  async openWaitingConversations(phoneNumberId: string, contactIds: readonly string[]): Promise<Map<string, string>> {
    if (contactIds.length === 0) return new Map();
    const C = conversations;
    const result = await this.db.execute(sql`
      insert into ${C} (${columnList(C.tenantId, C.phoneNumberId, C.contactId, C.status)})
      select ${this.tenantId}::uuid, ${phoneNumberId}::uuid, contact_id, ${literal(ConversationStatus.PENDING)}::conversation_status
      from unnest(${arrayLiteral([...contactIds].sort())}::uuid[]) as contact_id
      on conflict (${columnList(C.tenantId, C.phoneNumberId, C.contactId)}) where status <> 'RESOLVED'
      do nothing
      returning ${C.id}, ${C.contactId}
    `);
    return new Map(rowsOf<{ id: string; contact_id: string }>(result).map((r) => [String(r.contact_id), String(r.id)]));
  }

  /**
   * The campaign's texts as one statement: each message QUEUED, its outbox job (`enqueueSql`),
   * its conversation's and contact's activity, and its recipient QUEUED with the message. One
   * text per conversation (a recipient is a distinct number, so a distinct contact). Answers how
   * many were queued.
   */
  async queueTexts(
    campaign: { id: string; phoneNumberId: string; twilioAccountId: string },
    texts: readonly CampaignText[],
    enqueueSql: (rows: SQL) => SQL,
  ): Promise<number> {
    if (texts.length === 0) return 0;
    // The key look-ups below stay on their keys whatever the statistics say of this tenant (tenantParam).
    const t = tenantParam(this.tenantId);
    const C = conversations;
    const R = campaignRecipients;
    const result = await this.db.execute(sql`
      with input as (
        select * from json_to_recordset(${JSON.stringify(texts)}::json) as input("recipientId" bigint, "conversationId" uuid, body text, segments int)
      ),
      message as (
        insert into ${messages} (${columnList(
          messages.tenantId,
          messages.conversationId,
          messages.twilioAccountId,
          messages.direction,
          messages.body,
          messages.status,
          messages.source,
          messages.segments,
          messages.campaignId,
        )})
        select ${t}, input."conversationId", ${campaign.twilioAccountId}::uuid, ${literal(MessageDirection.OUTBOUND)}::message_direction, input.body,
          ${literal(MessageStatus.QUEUED)}::message_status, ${literal(MessageSource.CAMPAIGN)}::message_source, input.segments, ${campaign.id}::uuid
        from input order by input."recipientId"
        returning ${messages.id}, ${messages.conversationId}
      ),
      job as (${enqueueSql(sql`select ${t}, message.id, ${campaign.phoneNumberId}::uuid from message`)}),
      recorded as (
        update ${C} set ${setClauses(C, recordMessageSet(sql`message.id`))}
        from message
        -- "= any(array(...))" keeps each look-up on the primary key (see sendReplies: with the
        -- input's estimate the planner may hash a sequential scan of the table instead).
        where ${C.tenantId} = ${t} and ${C.id} = message.conversation_id and ${C.id} = any(array(select conversation_id from message))
        returning ${C.contactId}
      ),
      contact as (
        update ${contacts} set ${setClauses(contacts, recordContactActivity(sql`now()`))}
        where ${contacts.tenantId} = ${t} and ${contacts.id} = any(array(select contact_id from recorded))
      ),
      queued as (
        update ${R} set ${sql.identifier(R.state.name)} = ${literal(RecipientState.QUEUED)}, ${sql.identifier(R.messageId.name)} = message.id
        from message join input on input."conversationId" = message.conversation_id
        where ${R.tenantId} = ${t} and ${R.id} = input."recipientId" and ${R.id} = any(array(select "recipientId" from input))
      )
      select count(*)::int as n from message
    `);
    return rowsOf<{ n: number }>(result)[0]?.n ?? 0;
  }

  /** RUNNING → COMPLETED; undefined when it is not running (another instance completed it, or it was paused). */
  async complete(campaignId: string): Promise<CampaignRow | undefined> {
    const [row] = await this.db
      .update(campaigns)
      .set({ status: CampaignStatus.COMPLETED, completedAt: sql`now()`, updatedAt: sql`now()` })
      .where(this.scoped(campaigns, eq(campaigns.id, campaignId), eq(campaigns.status, CampaignStatus.RUNNING)))
      .returning();
    return row;
  }
}
