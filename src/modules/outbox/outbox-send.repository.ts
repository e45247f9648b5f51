import { and, eq, inArray, sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../../db/client.js';
import { setClauses } from '../../db/sql.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { contacts, type ContactRow } from '../contacts/contacts.schema.js';
import { conversations } from '../conversations/conversations.schema.js';
import { MessageStatus } from '../messages/message.enums.js';
import { statusesBefore } from '../messages/message-status.js';
import { messages, type MessageRow } from '../messages/messages.schema.js';
import { phoneNumbers, type PhoneNumberRow } from '../phone-numbers/phone-numbers.schema.js';
import { twilioAccounts, type TwilioAccountRow } from '../twilio-accounts/twilio-accounts.schema.js';
import { outbox } from './outbox.schema.js';

/** Everything the dispatcher needs to send one message, read in one statement. */
export interface SendContext {
  message: MessageRow;
  contact: ContactRow;
  phoneNumber: PhoneNumberRow;
  account: TwilioAccountRow;
}

/**
 * The dispatcher's per-message statements, bound to the job's tenant and fenced by the job's
 * lease (`locked_by`). The hot path of sending: each step is one statement (data-modifying CTEs
 * touch the outbox row and the message together), so a send costs three round trips besides the
 * Twilio call and its share of the claim.
 */
export class OutboxSendRepository extends TenantRepository {
  constructor(
    db: Db,
    tenantId: string,
    private readonly workerId: string,
  ) {
    super(db, tenantId);
  }

  async load(messageId: string): Promise<SendContext | undefined> {
    // Every joined row must belong to the message's tenant, not only match an id.
    const [row] = await this.db
      .select({
        message: messages,
        contact: contacts,
        phoneNumber: phoneNumbers,
        account: twilioAccounts,
      })
      .from(messages)
      .innerJoin(conversations, and(eq(conversations.id, messages.conversationId), eq(conversations.tenantId, messages.tenantId)))
      .innerJoin(contacts, and(eq(contacts.id, conversations.contactId), eq(contacts.tenantId, messages.tenantId)))
      .innerJoin(phoneNumbers, and(eq(phoneNumbers.id, conversations.phoneNumberId), eq(phoneNumbers.tenantId, messages.tenantId)))
      .innerJoin(twilioAccounts, and(eq(twilioAccounts.id, messages.twilioAccountId), eq(twilioAccounts.tenantId, messages.tenantId)))
      .where(this.scoped(messages, eq(messages.id, messageId)))
      .limit(1);
    return row;
  }

  /**
   * Before calling Twilio: re-checks that the job is still ours and extends its lease by `holdMs`
   * (the wait for the pacing slot plus the call), and moves the message to SENDING unless it is
   * there or further. `held` false means another dispatcher claimed the job: do not send. A
   * lease that ran out but that nobody claimed is still ours: a claim rewrites locked_by.
   */
  async markSending(jobId: number, messageId: string, holdMs: number): Promise<{ held: boolean; moved: boolean }> {
    const result = await this.db.execute(sql`
      with lease as (
        update ${outbox} set ${setClauses(outbox, { lockedUntil: sql`now() + ${Math.ceil(holdMs)} * interval '1 millisecond'` })}
        where ${outbox.id} = ${jobId} and ${outbox.lockedBy} = ${this.workerId}
        returning ${outbox.id}
      ),
      moved as (
        update ${messages} set ${setClauses(messages, { status: sql`${MessageStatus.SENDING}`, updatedAt: sql`now()` })}
        where ${this.scoped(messages, eq(messages.id, messageId), inArray(messages.status, statusesBefore(MessageStatus.SENDING)))}
          and exists (select 1 from lease)
        returning ${messages.id}
      )
      select (select count(*) from lease)::int as held, (select count(*) from moved)::int as moved
    `);
    const row = rowsOf<{ held: number; moved: number }>(result)[0];
    return { held: (row?.held ?? 0) > 0, moved: (row?.moved ?? 0) > 0 };
  }

  /**
   * Twilio accepted the message: SENT with its SID, and the job goes, in one statement. A status
   * callback may have got here first and moved the message further (it carries our id): then
   * only the SID is filled in. Recorded even if the lease was lost meanwhile: the SID is what
   * stops whoever holds the job now from sending it again.
   */
  async recordSent(jobId: number, messageId: string, twilioSid: string): Promise<boolean> {
    const result = await this.db.execute(sql`
      with done as (
        delete from ${outbox} where ${outbox.id} = ${jobId} and ${outbox.lockedBy} = ${this.workerId}
      ),
      sent as (
        update ${messages} set ${setClauses(messages, {
          twilioSid: sql`coalesce(${messages.twilioSid}, ${twilioSid})`,
          status: sql`case when ${inArray(messages.status, statusesBefore(MessageStatus.SENT))}
            then ${MessageStatus.SENT}::message_status else ${messages.status} end`,
          updatedAt: sql`now()`,
        })}
        where ${this.scoped(messages, eq(messages.id, messageId))}
        returning ${messages.id}
      )
      select (select count(*) from sent)::int as updated
    `);
    return (rowsOf<{ updated: number }>(result)[0]?.updated ?? 0) > 0;
  }
}
