import { sql } from 'drizzle-orm';
import { boolean, foreignKey, index, pgEnum, pgTable, primaryKey, smallint, text, timestamp, unique, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { contacts } from '../contacts/contacts.schema.js';
import { conversations } from '../conversations/conversations.schema.js';
import { messages } from '../messages/messages.schema.js';
import { phoneNumbers } from '../phone-numbers/phone-numbers.schema.js';
import { tenants } from '../tenants/tenants.schema.js';
import { users } from '../users/users.schema.js';
import { AutomatedMessageTrigger, SurveyState } from './automation.enums.js';

export const automatedMessageTriggerEnum = pgEnum('automated_message_trigger', AutomatedMessageTrigger);
export const surveyStateEnum = pgEnum('survey_state', SurveyState);

/** A number's text for one trigger (setAutomatedMessage creates or replaces it). */
export const automatedMessages = pgTable(
  'automated_messages',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    phoneNumberId: uuid('phone_number_id').notNull(),
    trigger: automatedMessageTriggerEnum('trigger').notNull(),
    body: text('body').notNull(),
    enabled: boolean('enabled').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('automated_messages_number_trigger_uq').on(t.tenantId, t.phoneNumberId, t.trigger),
    unique('automated_messages_tenant_id_uq').on(t.tenantId, t.id),
    foreignKey({ name: 'automated_messages_phone_number_fk', columns: [t.tenantId, t.phoneNumberId], foreignColumns: [phoneNumbers.tenantId, phoneNumbers.id] }).onDelete('cascade'),
  ],
);

/**
 * One row per automated text queued: the loop guard counts a contact's rows of the last hour
 * (an auto-responder answering ours must not make us answer forever).
 */
export const automationSends = pgTable(
  'automation_sends',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    messageId: uuid('message_id').notNull(),
    contactId: uuid('contact_id').notNull(),
    trigger: automatedMessageTriggerEnum('trigger').notNull(),
    /** The inbound text it answers (GREETING, OUT_OF_HOURS, ALL_AGENTS_BUSY): at most one answer per text. */
    answersMessageId: uuid('answers_message_id'),
    sentAt: timestamp('sent_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.messageId] }),
    index('automation_sends_contact_idx').on(t.tenantId, t.contactId, t.sentAt),
    uniqueIndex('automation_sends_answer_uq').on(t.tenantId, t.answersMessageId).where(sql`${t.answersMessageId} is not null`),
    foreignKey({ name: 'automation_sends_message_fk', columns: [t.tenantId, t.messageId], foreignColumns: [messages.tenantId, messages.id] }).onDelete('cascade'),
    foreignKey({ name: 'automation_sends_contact_fk', columns: [t.tenantId, t.contactId], foreignColumns: [contacts.tenantId, contacts.id] }).onDelete('cascade'),
  ],
);

/**
 * The customer survey of a resolved conversation: created when an agent resolves it with a
 * CSAT_SURVEY text enabled, requested once the RESOLVED text (if any) is SENT, answered by the
 * first rating within 24 h. At most one per conversation: the first answer wins.
 */
export const csatSurveys = pgTable(
  'csat_surveys',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    conversationId: uuid('conversation_id').notNull(),
    /** The conversation's team now, kept by database triggers as messages.team_id is (a team's report). */
    teamId: uuid('team_id'),
    state: surveyStateEnum('state').notNull(),
    resolvedById: uuid('resolved_by_id').references(() => users.id, { onDelete: 'set null' }),
    resolvedAt: timestamp('resolved_at', { withTimezone: true, mode: 'date' }).notNull(),
    /** The RESOLVED text the survey waits for; null when none was sent. */
    resolvedMessageId: uuid('resolved_message_id'),
    surveyMessageId: uuid('survey_message_id'),
    /** When the survey was queued, on the server clock; ratings count within 24 h of it. */
    requestedAt: timestamp('requested_at', { withTimezone: true, mode: 'date' }),
    rating: smallint('rating'),
    ratedAt: timestamp('rated_at', { withTimezone: true, mode: 'date' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.conversationId] }),
    index('csat_surveys_resolver_idx').on(t.tenantId, t.resolvedById, t.resolvedAt),
    // Reports: ratings of the resolutions in a period (index-only, a team's too).
    index('csat_surveys_period_idx').on(t.tenantId, t.resolvedAt, t.resolvedById, t.rating, t.teamId),
    foreignKey({ name: 'csat_surveys_conversation_fk', columns: [t.tenantId, t.conversationId], foreignColumns: [conversations.tenantId, conversations.id] }).onDelete('cascade'),
    // As messages.author_id: the plain key nulls the column when the user goes, this one keeps it in the tenant.
    foreignKey({ name: 'csat_surveys_resolver_tenant_fk', columns: [t.tenantId, t.resolvedById], foreignColumns: [users.tenantId, users.id] }),
    // The sweeper's scan of surveys still waiting, across tenants; stays small.
    index('csat_surveys_waiting_idx').on(t.createdAt).where(sql`${t.state} = 'WAITING'`),
  ],
);

export type AutomatedMessageRow = typeof automatedMessages.$inferSelect;
export type CsatSurveyRow = typeof csatSurveys.$inferSelect;
