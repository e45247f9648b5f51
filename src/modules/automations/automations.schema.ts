import { sql } from 'drizzle-orm';
import { boolean, index, pgEnum, pgTable, primaryKey, smallint, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
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
    phoneNumberId: uuid('phone_number_id')
      .notNull()
      .references(() => phoneNumbers.id, { onDelete: 'cascade' }),
    trigger: automatedMessageTriggerEnum('trigger').notNull(),
    body: text('body').notNull(),
    enabled: boolean('enabled').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('automated_messages_number_trigger_uq').on(t.tenantId, t.phoneNumberId, t.trigger)],
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
    messageId: uuid('message_id')
      .notNull()
      .references(() => messages.id, { onDelete: 'cascade' }),
    contactId: uuid('contact_id')
      .notNull()
      .references(() => contacts.id, { onDelete: 'cascade' }),
    trigger: automatedMessageTriggerEnum('trigger').notNull(),
    sentAt: timestamp('sent_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.messageId] }), index('automation_sends_contact_idx').on(t.tenantId, t.contactId, t.sentAt)],
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
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
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
    // The sweeper's scan of surveys still waiting, across tenants; stays small.
    index('csat_surveys_waiting_idx').on(t.createdAt).where(sql`${t.state} = 'WAITING'`),
  ],
);

export type AutomatedMessageRow = typeof automatedMessages.$inferSelect;
export type CsatSurveyRow = typeof csatSurveys.$inferSelect;
