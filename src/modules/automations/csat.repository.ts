import { and, avg, eq, gte, inArray, isNotNull, sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../../db/client.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { isUuid } from '../../shared/ids.js';
import { messages } from '../messages/messages.schema.js';
import { SurveyState } from './automation.enums.js';
import { csatSurveys, type CsatSurveyRow } from './automations.schema.js';

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

  /** Average rating of the conversations this user resolved (since a time); null without ratings. */
  async averageForResolver(userId: string, since: Date | null): Promise<number | null> {
    const [row] = await this.db
      .select({ avg: avg(csatSurveys.rating) })
      .from(csatSurveys)
      .where(
        this.scoped(
          csatSurveys,
          eq(csatSurveys.resolvedById, userId),
          isNotNull(csatSurveys.rating),
          since ? gte(csatSurveys.resolvedAt, since) : undefined,
        ),
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
  async ingestRating(text: RatingText): Promise<{ messageId: string; conversationId: string } | null> {
    const t = this.tenantId;
    const now = text.now.toISOString();
    const result = await this.db.execute(sql`
      with number as (
        select id from phone_numbers
        where tenant_id = ${t}::uuid and twilio_account_id = ${text.twilioAccountId}::uuid and e164 = ${text.to}
          and removed_at is null and direction = 'INBOUND_OUTBOUND'
        limit 1
      ),
      contact as (
        select id from contacts where tenant_id = ${t}::uuid and phone_number = ${text.from}
      ),
      survey as (
        select s.conversation_id from csat_surveys s
        join conversations c on c.tenant_id = s.tenant_id and c.id = s.conversation_id
        where s.tenant_id = ${t}::uuid and s.state = 'REQUESTED'
          and s.requested_at > ${now}::timestamptz - interval '${sql.raw(String(RATING_WINDOW_HOURS))} hours'
          and c.status = 'RESOLVED'
          and c.phone_number_id = (select id from number) and c.contact_id = (select id from contact)
          and not exists (
            select 1 from conversations live
            where live.tenant_id = ${t}::uuid and live.phone_number_id = c.phone_number_id
              and live.contact_id = c.contact_id and live.status <> 'RESOLVED'
          )
        order by s.requested_at desc
        limit 1
      ),
      rated as (
        update csat_surveys set
          rating = coalesce(csat_surveys.rating, ${text.rating}::smallint),
          rated_at = coalesce(csat_surveys.rated_at, ${now}::timestamptz)
        from survey
        where csat_surveys.tenant_id = ${t}::uuid and csat_surveys.conversation_id = survey.conversation_id
        returning csat_surveys.conversation_id
      ),
      touched as (
        update conversations set
          last_message_id = case when now() >= conversations.last_message_at then ${text.messageId}::uuid else conversations.last_message_id end,
          last_message_at = greatest(conversations.last_message_at, now()),
          updated_at = now()
        from rated
        where conversations.tenant_id = ${t}::uuid and conversations.id = rated.conversation_id
        returning conversations.id
      ),
      message as (
        insert into messages (id, tenant_id, conversation_id, twilio_account_id, direction, body, media, media_dropped, status, twilio_sid, segments)
        select ${text.messageId}::uuid, ${t}::uuid, touched.id, ${text.twilioAccountId}::uuid, 'INBOUND', ${text.body},
          '[]'::jsonb, 0, 'RECEIVED', ${text.messageSid}, ${text.segments}::int
        from touched
        returning id, conversation_id
      )
      select id as "messageId", conversation_id as "conversationId" from message
    `);
    const [row] = rowsOf<{ messageId: string; conversationId: string }>(result);
    return row ?? null;
  }
}

/**
 * The surveys still waiting for their RESOLVED text, across tenants (the sweeper of every
 * instance); each is then handled through repositories bound to its tenant.
 */
export async function surveysReadyToSend(db: Db, limit: number): Promise<Array<{ tenantId: string; conversationId: string }>> {
  const result = await db.execute(sql`
    select s.tenant_id as "tenantId", s.conversation_id as "conversationId"
    from csat_surveys s
    left join messages m on m.tenant_id = s.tenant_id and m.id = s.resolved_message_id
    where s.state = 'WAITING'
      and (s.resolved_message_id is null or m.id is null or m.status in ('SENT', 'DELIVERED', 'READ', 'UNDELIVERED', 'FAILED'))
    order by s.created_at
    limit ${limit}
  `);
  return rowsOf<{ tenantId: string; conversationId: string }>(result);
}
