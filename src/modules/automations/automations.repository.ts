import { and, asc, count, eq, gt, inArray, isNull, ne, sql } from 'drizzle-orm';
import { ConversationStatus } from '../conversations/conversation-status.js';
import type { Db } from '../../db/client.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { isUuid } from '../../shared/ids.js';
import { contacts } from '../contacts/contacts.schema.js';
import { messages } from '../messages/messages.schema.js';
import { operatingHours, type OperatingHoursRow } from '../operating-hours/operating-hours.schema.js';
import { conversations } from '../conversations/conversations.schema.js';
import { phoneNumbers } from '../phone-numbers/phone-numbers.schema.js';
import { tenants } from '../tenants/tenants.schema.js';
import { users } from '../users/users.schema.js';
import type { AutomatedMessageTrigger } from './automation.enums.js';
import { automatedMessages, automationSends, type AutomatedMessageRow } from './automations.schema.js';

export class AutomatedMessagesRepository extends TenantRepository {
  async listByNumbers(phoneNumberIds: readonly string[]): Promise<AutomatedMessageRow[]> {
    const valid = phoneNumberIds.filter(isUuid);
    if (valid.length === 0) return [];
    return this.db
      .select()
      .from(automatedMessages)
      .where(this.scoped(automatedMessages, inArray(automatedMessages.phoneNumberId, valid)))
      .orderBy(asc(automatedMessages.trigger));
  }

  /** The enabled texts of a number among these triggers. */
  async findEnabled(phoneNumberId: string, triggers: readonly AutomatedMessageTrigger[]): Promise<AutomatedMessageRow[]> {
    return this.db
      .select()
      .from(automatedMessages)
      .where(
        this.scoped(
          automatedMessages,
          eq(automatedMessages.phoneNumberId, phoneNumberId),
          eq(automatedMessages.enabled, true),
          inArray(automatedMessages.trigger, [...triggers]),
        ),
      );
  }

  /** Creates or replaces the number's text for the trigger (one row per number and trigger). */
  async upsert(phoneNumberId: string, trigger: AutomatedMessageTrigger, body: string, enabled: boolean): Promise<AutomatedMessageRow> {
    const [row] = await this.db
      .insert(automatedMessages)
      .values({ tenantId: this.tenantId, phoneNumberId, trigger, body, enabled })
      .onConflictDoUpdate({
        target: [automatedMessages.tenantId, automatedMessages.phoneNumberId, automatedMessages.trigger],
        set: { body, enabled, updatedAt: sql`now()` },
      })
      .returning();
    return row!;
  }
}

/** What an automated text needs about its conversation, read with the contact row locked. */
export interface AutomationRecipient {
  conversationId: string;
  phoneNumberId: string;
  twilioAccountId: string;
  numberRemoved: boolean;
  contactId: string;
  contactName: string | null;
  optedOut: boolean;
  /** Blocked contacts get no automated text, ever. */
  blocked: boolean;
  tenantName: string;
  agentName: string | null;
}

export interface InboundContext {
  phoneNumberId: string;
  /** A text stored in a RESOLVED conversation is a survey answer: nothing answers it. */
  resolved: boolean;
  /** The number's schedule; null: always open. */
  hours: OperatingHoursRow | null;
  /** The conversation's first message (any direction): GREETING only answers a conversation's first text. */
  firstMessageId: string | null;
}

/** The reads and writes of automated texts, bound to one tenant. */
export class AutomationSendsRepository extends TenantRepository {
  async inboundContext(conversationId: string): Promise<InboundContext | undefined> {
    const first = this.db
      .select({ id: messages.id })
      .from(messages)
      .where(and(eq(messages.tenantId, this.tenantId), eq(messages.conversationId, conversations.id)))
      .orderBy(asc(messages.createdAt), asc(messages.id))
      .limit(1);
    const [row] = await this.db
      .select({ phoneNumberId: phoneNumbers.id, resolved: sql<boolean>`${conversations.status} = 'RESOLVED'`, hours: operatingHours, firstMessageId: sql<string | null>`(${first})` })
      .from(conversations)
      .innerJoin(phoneNumbers, and(eq(phoneNumbers.id, conversations.phoneNumberId), eq(phoneNumbers.tenantId, conversations.tenantId)))
      .leftJoin(operatingHours, and(eq(operatingHours.id, phoneNumbers.operatingHoursId), eq(operatingHours.tenantId, phoneNumbers.tenantId)))
      .where(this.scoped(conversations, eq(conversations.id, conversationId)))
      .limit(1);
    return row;
  }

  /**
   * Locks the contact (FOR UPDATE): automated texts to one contact are decided one at a time,
   * on every instance, so the loop guard's count and the opt-out read cannot race a concurrent
   * send or a STOP.
   */
  async lockRecipient(conversationId: string): Promise<AutomationRecipient | undefined> {
    const [row] = await this.db
      .select({
        conversationId: conversations.id,
        phoneNumberId: phoneNumbers.id,
        twilioAccountId: phoneNumbers.twilioAccountId,
        numberRemoved: sql<boolean>`${phoneNumbers.removedAt} is not null`,
        contactId: contacts.id,
        contactName: contacts.name,
        optedOut: contacts.optedOut,
        blocked: contacts.blocked,
        tenantName: tenants.name,
        agentName: users.name,
      })
      .from(conversations)
      .innerJoin(contacts, and(eq(contacts.id, conversations.contactId), eq(contacts.tenantId, conversations.tenantId)))
      .innerJoin(phoneNumbers, and(eq(phoneNumbers.id, conversations.phoneNumberId), eq(phoneNumbers.tenantId, conversations.tenantId)))
      .innerJoin(tenants, eq(tenants.id, conversations.tenantId))
      .leftJoin(users, and(eq(users.id, conversations.assigneeId), eq(users.tenantId, conversations.tenantId)))
      .where(this.scoped(conversations, eq(conversations.id, conversationId)))
      .limit(1)
      .for('update', { of: contacts });
    return row;
  }

  /** Automated texts queued to the contact in the last hour (database clock). */
  async countLastHour(contactId: string): Promise<number> {
    const [row] = await this.db
      .select({ n: count() })
      .from(automationSends)
      .where(this.scoped(automationSends, eq(automationSends.contactId, contactId), gt(automationSends.sentAt, sql`now() - interval '1 hour'`)));
    return Number(row?.n ?? 0);
  }

  async record(messageId: string, contactId: string, trigger: AutomatedMessageTrigger, answersMessageId: string | null): Promise<void> {
    await this.db.insert(automationSends).values({ tenantId: this.tenantId, messageId, contactId, trigger, answersMessageId });
  }

  /** Whether an automated text already answers this inbound text. */
  async answered(inboundMessageId: string): Promise<boolean> {
    const [row] = await this.db
      .select({ id: automationSends.messageId })
      .from(automationSends)
      .where(this.scoped(automationSends, eq(automationSends.answersMessageId, inboundMessageId)))
      .limit(1);
    return row !== undefined;
  }
}

/** Operating hours seen by routing: a closed number holds automatic assignment (conversations.route_after). */
export class OperatingHoldsRepository extends TenantRepository {



  /**
   * The numbers opened: their waiting conversations' holds end now (routing assigns them next;
   * route_after = now() keeps them "checked": the guard need not run again).
   */
  async releaseHolds(phoneNumberIds: readonly string[]): Promise<number> {
    const valid = phoneNumberIds.filter(isUuid);
    if (valid.length === 0) return 0;
    const rows = await this.db
      .update(conversations)
      .set({ routeAfter: sql`now()` })
      .where(
        this.scoped(
          conversations,
          inArray(conversations.phoneNumberId, valid),
          gt(conversations.routeAfter, sql`now()`),
          isNull(conversations.assigneeId),
          ne(conversations.status, ConversationStatus.RESOLVED),
        ),
      )
      .returning({ id: conversations.id });
    return rows.length;
  }
}

/**
 * The operating hours of these conversations' numbers, by conversation id (routing's guard, for
 * the openings of a burst, whatever their tenants): conversations whose number has no schedule are
 * absent. Each (tenant, conversation) pair is matched on both, and the joins stay in the tenant.
 */
export async function hoursOfConversations(
  db: Db,
  opened: ReadonlyArray<{ tenantId: string; conversationId: string }>,
): Promise<Map<string, OperatingHoursRow>> {
  const valid = opened.filter((o) => isUuid(o.tenantId) && isUuid(o.conversationId));
  if (valid.length === 0) return new Map();
  const rows = await db
    .select({ conversationId: conversations.id, hours: operatingHours })
    .from(conversations)
    .innerJoin(phoneNumbers, and(eq(phoneNumbers.id, conversations.phoneNumberId), eq(phoneNumbers.tenantId, conversations.tenantId)))
    .innerJoin(operatingHours, and(eq(operatingHours.id, phoneNumbers.operatingHoursId), eq(operatingHours.tenantId, phoneNumbers.tenantId)))
    .where(
      // The ids first, so the plan starts from the primary key: matching on the pairs alone, the
      // planner read every conversation of the tenants' numbers (a growing scan per burst).
      sql`${conversations.id} = any(${`{${valid.map((o) => o.conversationId).join(',')}}`}::uuid[])
        and (${conversations.tenantId}, ${conversations.id}) in (select * from unnest(${`{${valid.map((o) => o.tenantId).join(',')}}`}::uuid[], ${`{${valid.map((o) => o.conversationId).join(',')}}`}::uuid[]))`,
    );
  return new Map(rows.map((r) => [r.conversationId, r.hours]));
}
