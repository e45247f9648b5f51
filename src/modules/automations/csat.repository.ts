import { and, asc, avg, eq, gte, inArray, isNotNull, isNull, notInArray, or, sql, type SQL } from 'drizzle-orm';
import { rowsOf, type Db } from '../../db/client.js';
import { columnList, literal, setClauses, tenantParam } from '../../db/sql.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { contacts } from '../contacts/contacts.schema.js';
import { ConversationStatus } from '../conversations/conversation-status.js';
import { conversations } from '../conversations/conversations.schema.js';
import { recordActivity } from '../conversations/conversations.sql.js';
import { MessageDirection, MessageStatus } from '../messages/message.enums.js';
import { NumberDirection } from '../phone-numbers/phone-number.enums.js';
import { phoneNumbers } from '../phone-numbers/phone-numbers.schema.js';
import { isUuid } from '../../shared/ids.js';
import { messages } from '../messages/messages.schema.js';
import { SurveyState } from './automation.enums.js';
import { csatSurveys, type CsatSurveyRow } from './automations.schema.js';
import { insertWebhookEvents } from '../webhook-events/webhook-events.sql.js';

/** A customer's text that reads as a rating, as the webhook got it. */
export interface RatingText {
  messageId: string;
  twilioAccountId: string;
  messageSid: string;
  from: string;
  to: string;
  body: string;
  segments: number;
  rating: number;
  /** The server clock (deps.clock): the 24 h window is on the same clock as requested_at. */
  now: Date;
}

/** Ratings are taken within this long of the survey being queued. */
export const RATING_WINDOW_HOURS = 24;

export class CsatRepository extends TenantRepository {
  /** At most one survey per conversation: a second resolution keeps the first (its answer wins). */
  async create(values: {
    conversationId: string;
    resolvedById: string | null;
    resolvedAt: Date;
    resolvedMessageId: string | null;
  }): Promise<boolean> {
    const rows = await this.db
      .insert(csatSurveys)
      .values({ tenantId: this.tenantId, state: SurveyState.WAITING, ...values })
      .onConflictDoNothing()
      .returning({ id: csatSurveys.conversationId });
    return rows.length > 0;
  }

  /** The waiting survey of a conversation, locked; null when another instance has it or it moved on. */
  async lockWaiting(conversationId: string): Promise<(CsatSurveyRow & { resolvedMessageStatus: string | null }) | undefined> {
    const [row] = await this.db
      .select({ survey: csatSurveys, resolvedMessageStatus: messages.status })
      .from(csatSurveys)
      .leftJoin(messages, and(eq(messages.id, csatSurveys.resolvedMessageId), eq(messages.tenantId, csatSurveys.tenantId)))
      .where(this.scoped(csatSurveys, eq(csatSurveys.conversationId, conversationId), eq(csatSurveys.state, SurveyState.WAITING)))
      .limit(1)
      .for('update', { of: csatSurveys, skipLocked: true });
    return row ? { ...row.survey, resolvedMessageStatus: row.resolvedMessageStatus } : undefined;
  }

  async markRequested(conversationId: string, surveyMessageId: string, requestedAt: Date): Promise<void> {
    await this.db
      .update(csatSurveys)
      .set({ state: SurveyState.REQUESTED, surveyMessageId, requestedAt })
      .where(this.scoped(csatSurveys, eq(csatSurveys.conversationId, conversationId)));
  }

  async markSkipped(conversationId: string): Promise<void> {
    await this.db
      .update(csatSurveys)
      .set({ state: SurveyState.SKIPPED })
      .where(this.scoped(csatSurveys, eq(csatSurveys.conversationId, conversationId)));
  }

  async ratingsOf(conversationIds: readonly string[]): Promise<Array<{ id: string; rating: number | null }>> {
    const valid = conversationIds.filter(isUuid);
    if (valid.length === 0) return [];
    return this.db
      .select({ id: csatSurveys.conversationId, rating: csatSurveys.rating })
      .from(csatSurveys)
      .where(this.scoped(csatSurveys, inArray(csatSurveys.conversationId, valid)));
  }

  /**
   * Average rating of the team's conversations resolved since a time (the conversation's team
   * now: a transferred conversation counts for the team it ended in); null without ratings.
   */
  async averageForTeam(teamId: string, since: Date | null): Promise<number | null> {
    if (!isUuid(teamId)) return null;
    return this.averageRating(eq(conversations.teamId, teamId), since, true);
  }

  /** Average rating of the conversations this user resolved (since a time); null without ratings. */
  async averageForResolver(userId: string, since: Date | null): Promise<number | null> {
    return this.averageRating(eq(csatSurveys.resolvedById, userId), since, false);
  }

  /** Average of the ratings given that match `condition` (since a time); `withConversation` joins the rated conversation. */
  private async averageRating(condition: SQL, since: Date | null, withConversation: boolean): Promise<number | null> {
    const from = this.db.select({ avg: avg(csatSurveys.rating) }).from(csatSurveys);
    const rated = withConversation
      ? from.innerJoin(conversations, and(eq(conversations.tenantId, csatSurveys.tenantId), eq(conversations.id, csatSurveys.conversationId)))
      : from;
    const [row] = await rated.where(
      this.scoped(csatSurveys, condition, isNotNull(csatSurveys.rating), since ? gte(csatSurveys.resolvedAt, since) : undefined),
    );
    return row?.avg === null || row?.avg === undefined ? null : Number(row.avg);
  }

  /**
   * Stores a rating text in the resolved conversation whose survey asked for it, without
   * reopening it or opening another, in one statement: the survey (REQUESTED within the window,
   * the contact having no live conversation on the number) takes the rating unless it has one
   * (the first answer wins), and the message joins the thread. Null when no survey is waiting
   * for this contact: the caller ingests the text as usual. A Twilio retry raises the unique
   * violation messages_account_sid_uq, undoing the whole statement, as the ordinary ingest does.
   */
  async ingestRating(text: RatingText): Promise<{ messageId: string; conversationId: string; contactId: string } | null> {
    // Key look-ups whatever the statistics say of this tenant (tenantParam).
    const t = tenantParam(this.tenantId);
    const now = sql`${text.now.toISOString()}::timestamptz`;
    const c = conversations;
    const s = csatSurveys;
    const result = await this.db.execute(sql`
      with number as (
        select ${phoneNumbers.id} from ${phoneNumbers}
        where ${phoneNumbers.tenantId} = ${t} and ${phoneNumbers.twilioAccountId} = ${text.twilioAccountId}::uuid
          and ${phoneNumbers.e164} = ${text.to} and ${phoneNumbers.removedAt} is null
          and ${phoneNumbers.direction} = ${literal(NumberDirection.INBOUND_OUTBOUND)}
        limit 1
      ),
      contact as (
        -- A blocked contact's text is never a rating: the ordinary ingest stores it silently.
        select ${contacts.id} from ${contacts}
        where ${contacts.tenantId} = ${t} and ${contacts.phoneNumber} = ${text.from} and not ${contacts.blocked}
      ),
      live as (
        select 1 from ${c}
        where ${c.tenantId} = ${t} and ${c.phoneNumberId} = (select id from number) and ${c.contactId} = (select id from contact)
          and ${c.status} <> ${literal(ConversationStatus.RESOLVED)}
      ),
      survey as (
        select ${s.conversationId} from ${s}
        join ${c} on ${c.tenantId} = ${s.tenantId} and ${c.id} = ${s.conversationId}
        where ${s.tenantId} = ${t} and ${s.state} = ${literal(SurveyState.REQUESTED)}
          and ${s.requestedAt} > ${now} - interval '${sql.raw(String(RATING_WINDOW_HOURS))} hours'
          and ${c.status} = ${literal(ConversationStatus.RESOLVED)}
          and ${c.phoneNumberId} = (select id from number) and ${c.contactId} = (select id from contact)
          and not exists (select 1 from live)
        order by ${s.requestedAt} desc
        limit 1
      ),
      rated as (
        update ${s} set ${setClauses(s, { rating: sql`coalesce(${s.rating}, ${text.rating}::smallint)`, ratedAt: sql`coalesce(${s.ratedAt}, ${now})` })}
        from survey
        where ${s.tenantId} = ${t} and ${s.conversationId} = survey.conversation_id
        returning ${s.conversationId}
      ),
      touched as (
        update ${c} set ${setClauses(c, { ...recordActivity(sql`now()`, sql`${text.messageId}::uuid`), updatedAt: sql`now()` })}
        from rated
        where ${c.tenantId} = ${t} and ${c.id} = rated.conversation_id
        returning ${c.id}
      ),
      message as (
        insert into ${messages} (${columnList(
          messages.id, messages.tenantId, messages.conversationId, messages.twilioAccountId, messages.direction, messages.body,
          messages.status, messages.twilioSid, messages.segments,
        )})
        select ${text.messageId}::uuid, ${t}, touched.id, ${text.twilioAccountId}::uuid, ${literal(MessageDirection.INBOUND)},
          ${text.body}, ${literal(MessageStatus.RECEIVED)}, ${text.messageSid}, ${text.segments}::int
        from touched
        returning ${messages.id}, ${messages.conversationId}
      ),
      webhook_events as (${insertWebhookEvents(sql`
        select ${t} as tenant_id, 'MESSAGE_RECEIVED' as event_type, message.id as subject_id, message.conversation_id, 1 as ord from message
      `)})
      select id as "messageId", conversation_id as "conversationId", (select id from contact) as "contactId" from message
    `);
    const [row] = rowsOf<{ messageId: string; conversationId: string; contactId: string }>(result);
    return row ?? null;
  }
}

/**
 * The surveys still waiting for their RESOLVED text, across tenants (the sweeper of every
 * instance); each is then handled through repositories bound to its tenant.
 */
export async function surveysReadyToSend(db: Db, limit: number): Promise<Array<{ tenantId: string; conversationId: string }>> {
  return db
    .select({ tenantId: csatSurveys.tenantId, conversationId: csatSurveys.conversationId })
    .from(csatSurveys)
    .leftJoin(messages, and(eq(messages.tenantId, csatSurveys.tenantId), eq(messages.id, csatSurveys.resolvedMessageId)))
    .where(
      and(
        eq(csatSurveys.state, SurveyState.WAITING),
        or(isNull(csatSurveys.resolvedMessageId), isNull(messages.id), notInArray(messages.status, [MessageStatus.QUEUED, MessageStatus.SENDING])),
      ),
    )
    .orderBy(asc(csatSurveys.createdAt))
    .limit(limit);
}
